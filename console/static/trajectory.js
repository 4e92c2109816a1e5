// @ts-check
// Vehicle trajectory (车辆轨迹): a plate and a time range → every sighting in time order,
// as a numbered list with snapshots and as a path on the map (basemap.js: on a street map
// each camera's passes are one marker with their times and a snapshot). The query lives in the URL
// (#/trajectory?plate=京A12345&since=…&until=…) so a link from an alert opens it filled in.

import { get } from "./api.js";
import { clear, fmtDateTime, fmtTime, fromLocalInput, h, nowSec, setText, toLocalInput } from "./dom.js";
import { createBaseMap } from "./basemap.js";
import { t } from "./i18n.js";
import { thumb } from "./search.js";
import { getCamera, listCameras } from "./state.js";

/** {points: [{sighting, camera}]} → flat rows in time order. */
function sightingsOf(res) {
  const list = Array.isArray(res) ? res : res?.points || [];
  return list.map((p) => {
    const s = p.sighting || p;
    const place = p.camera || {};
    const cam = getCamera(s.camera_id) || {};
    const loc = cam.location || {};
    const num = (x) => (x === null || x === undefined ? NaN : Number(x));
    return {
      ...s,
      at: s.first_seen ?? s.seen_at ?? s.at,
      lon: num(place.lon ?? loc.lon),
      lat: num(place.lat ?? loc.lat),
      crs: place.crs ?? loc.crs,
      snapshot_url: s.evidence?.snapshot && s.sighting_id
        ? `/api/sightings/${encodeURIComponent(s.sighting_id)}/evidence/snapshot` : null,
      camera_name: place.name || cam.name || s.camera_id,
      address: place.address || loc.address || "",
    };
  }).sort((a, b) => a.at - b.at);
}

export function mount(root, params, query) {
  const plate = h("input", { id: "tr-plate", name: "plate", required: true, autocomplete: "off",
    class: "input-plate", value: query.get("plate") || "", placeholder: "京A12345" });
  const since = h("input", { id: "tr-since", type: "datetime-local",
    value: toLocalInput(Number(query.get("since")) || nowSec() - 86400) });
  const until = h("input", { id: "tr-until", type: "datetime-local",
    value: toLocalInput(Number(query.get("until")) || nowSec() + 60) });
  const status = h("p", { class: "muted", role: "status" }, t("traj.prompt"));
  const form = h("form", { class: "toolbar-form", "aria-label": t("traj.title") },
    h("label", { for: "tr-plate" }, t("traj.plate")), plate,
    h("label", { for: "tr-since" }, t("traj.since")), since,
    h("label", { for: "tr-until" }, t("traj.until")), until,
    h("button", { type: "submit", class: "btn btn-primary" }, t("traj.search")));
  const list = h("ol", { class: "traj-list", "aria-label": t("traj.title") });
  const area = h("div", { class: "map-area" });
  root.append(h("div", { class: "view-head" }, h("h1", {}, t("traj.title"))), form,
    h("div", { class: "map-layout" }, area, h("aside", { class: "map-side panel" }, status, list)));
  const map = createBaseMap(area, { label: t("traj.title"), onSelect: (id) => highlight(id) });
  let alive = true;

  function highlight(id) {
    map.select(id);
    list.querySelectorAll("li").forEach((li) => li.classList.toggle("selected", li.dataset.id === id));
    list.querySelector(`li[data-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: "nearest" });
  }

  async function search() {
    const p = plate.value.trim();
    if (!p) {
      setText(status, t("traj.required"));
      plate.focus();
      return;
    }
    const s = fromLocalInput(since.value);
    const u = fromLocalInput(until.value);
    const q = new URLSearchParams({ plate: p });
    if (s) q.set("since", String(Math.floor(s)));
    if (u) q.set("until", String(Math.ceil(u)));
    history.replaceState(null, "", `#/trajectory?${q}`);
    setText(status, t("detail.loading"));
    try {
      const res = await get(`/api/trajectory?${q}`);
      if (!alive) return;
      show(sightingsOf(res));
    } catch (err) {
      if (alive) setText(status, t("act.failed", { msg: err.message }));
    }
  }

  function show(sightings) {
    setText(status, sightings.length ? t("traj.count", { n: sightings.length }) : t("traj.empty"));
    list.replaceChildren(...sightings.map((s, i) => h("li", {
      dataset: { id: `s${i}` }, tabindex: "0", onclick: () => highlight(`s${i}`),
      onkeydown: (ev) => { if (ev.key === "Enter") highlight(`s${i}`); },
    },
    h("span", { class: "traj-n" }, String(i + 1)),
    h("div", {}, h("div", { class: "traj-when" }, fmtDateTime(s.at)),
      h("div", {}, s.camera_name), h("div", { class: "muted" }, s.address)),
    thumb(s.snapshot_url, t("search.snapshot", { plate: s.plate || "" })))));
    const onRoute = new Set(sightings.map((s) => s.camera_id));
    const context = listCameras().filter((c) => c.location && !onRoute.has(c.id)).map((c) => ({
      id: `c-${c.id}`, lon: Number(c.location.lon), lat: Number(c.location.lat), crs: c.location.crs, cls: "ctx",
      label: c.name || c.id, passive: true, small: true }));
    map.setPoints([...context, ...sightings.map((s, i) => ({ id: `s${i}`, lon: s.lon, lat: s.lat,
      crs: s.crs, cls: "sighting", label: `${i + 1} · ${fmtTime(s.at)}`, badge: String(i + 1),
      thumb: s.snapshot_url, title: `${i + 1}. ${fmtDateTime(s.at)} ${s.camera_name}` }))]);
    map.setRoute(sightings.map((s, i) => ({ lon: s.lon, lat: s.lat, crs: s.crs, n: i + 1 })));
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    search();
  });
  if (plate.value) search();
  else plate.focus();

  return {
    unmount() {
      alive = false;
      map.destroy();
      clear(root);
    },
    onKey() {
      return false;
    },
  };
}
