// @ts-check
// Vehicle search (车辆查询): a plate pattern (? one character, * any run), a time range,
// cameras or camera groups and a colour → every matching sighting, newest first, as a
// table with thumbnails, paged with the server's cursor, exportable as CSV; each row opens
// the trajectory of its plate around that pass. The query lives in the URL
// (#/search?plate=京A?1?3?5&from=…&to=…&camera=…&group=…&color=…) so it can be shared.

import { blobUrl, get } from "./api.js";
import { clear, fmtDateTime, fromLocalInput, h, nowSec, setText, toLocalInput } from "./dom.js";
import { evidenceSrc } from "./evidence.js";
import { t, tOr } from "./i18n.js";
import { messageText } from "./problems.js";
import { listCameras } from "./state.js";

const COLORS = ["blue", "yellow", "green", "yellow_green", "white", "black"];
const HOUR = 3600;

function cameraOptions(cameras, chosen) {
  const groups = new Map();
  for (const c of cameras) {
    const g = c.group || "default";
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(c);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([g, cams]) =>
    h("optgroup", { label: `${t("cam.group")}: ${g}` },
      h("option", { value: `group:${g}`, selected: chosen.has(`group:${g}`) }, t("search.wholegroup", { group: g })),
      cams.map((c) => h("option", { value: `camera:${c.id}`, selected: chosen.has(`camera:${c.id}`) },
        c.name || c.id))));
}

function formFrom(query) {
  const chosen = new Set([...query.getAll("camera").map((c) => `camera:${c}`),
    ...query.getAll("group").map((g) => `group:${g}`)]);
  // A fresh page proposes the last 24 h; a URL (a shared search) says exactly what it wants.
  const fresh = ![...query.keys()].length;
  const when = (key, dflt) => (query.has(key) ? toLocalInput(Number(query.get(key))) : fresh ? toLocalInput(dflt) : "");
  return {
    plate: h("input", { id: "ps-plate", name: "plate", autocomplete: "off", class: "input-plate",
      value: query.get("plate") || "", placeholder: "京A?1?3?5", "aria-describedby": "ps-hint" }),
    since: h("input", { id: "ps-since", type: "datetime-local", value: when("from", nowSec() - 24 * HOUR) }),
    until: h("input", { id: "ps-until", type: "datetime-local", value: when("to", nowSec() + 60) }),
    cameras: h("select", { id: "ps-cameras", multiple: true, size: 4, class: "ps-cameras" },
      cameraOptions(listCameras(), chosen)),
    chosen,
    color: h("select", { id: "ps-color" }, h("option", { value: "" }, t("search.anycolor")),
      COLORS.map((c) => h("option", { value: c, selected: query.get("color") === c }, tOr(`color.${c}`, c)))),
  };
}

/** The form → URL parameters (shared by the page request, the URL and the CSV export). */
function paramsOf(f) {
  const q = new URLSearchParams();
  if (f.plate.value.trim()) q.set("plate", f.plate.value.trim());
  const s = fromLocalInput(f.since.value);
  const u = fromLocalInput(f.until.value);
  if (s) q.set("from", String(Math.floor(s)));
  if (u) q.set("to", String(Math.ceil(u)));
  for (const o of f.cameras.selectedOptions) {
    const [kind, ...rest] = o.value.split(":");
    q.append(kind, rest.join(":"));
  }
  if (f.color.value) q.set("color", f.color.value);
  return q;
}

/** A snapshot thumbnail (fetched with the token), or a "no picture" note; also used by
 * the trajectory list. */
export function thumb(url, label) {
  const img = h("img", { class: "ps-thumb", alt: label, loading: "lazy", hidden: true });
  const box = h("div", { class: "ps-thumb-box" }, img);
  if (url) {
    evidenceSrc(url).then((src) => { img.src = src; img.hidden = false; },
      () => box.append(h("span", { class: "muted" }, t("search.nopicture"))));
  } else {
    box.append(h("span", { class: "muted" }, t("search.nopicture")));
  }
  return box;
}

function trajectoryHref(row) {
  const q = new URLSearchParams({ plate: row.plate, since: String(Math.floor(row.seen_at - 12 * HOUR)),
    until: String(Math.ceil(row.seen_at + 12 * HOUR)) });
  return `#/trajectory?${q}`;
}

function rowOf(r) {
  return h("tr", { dataset: { id: r.sighting_id } },
    h("td", {}, thumb(r.snapshot_url, t("search.snapshot", { plate: r.plate }))),
    h("td", { class: "plate" }, r.plate),
    h("td", {}, tOr(`color.${r.color}`, r.color)),
    h("td", {}, tOr(`ptype.${r.plate_type}`, r.plate_type)),
    h("td", {}, r.camera_name),
    h("td", {}, fmtDateTime(r.seen_at)),
    h("td", {}, `${Math.round(r.confidence * 100)} %`),
    h("td", {}, h("a", { class: "btn btn-small", href: trajectoryHref(r),
      "aria-label": t("search.trajectory.label", { plate: r.plate }) }, t("search.trajectory"))));
}

/** A refusal in the page's language: the server's reason for a bad pattern (the characters
 * at fault) is translated by problems.js, never shown as the server's English. */
function problemText(err) {
  const d = err.body && Array.isArray(err.body.detail) ? err.body.detail[0] : null;
  const field = d && Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : null;
  if (err.status === 422 && field === "plate") {
    return t("search.why", { text: t("search.badpattern"), why: messageText(d.msg) });
  }
  if (err.status === 422 && field === "to") return t("search.badrange");
  return t("act.failed", { msg: err.message });
}

/** The form, result table and pager; returns the elements the controller drives. */
function layout(root, f) {
  const v = {
    status: h("p", { class: "muted", role: "status", id: "ps-status" }, t("search.prompt")),
    exportBtn: h("button", { type: "button", class: "btn", id: "ps-csv" }, t("search.csv")),
    tbody: h("tbody"),
    prev: h("button", { type: "button", class: "btn", id: "ps-prev", disabled: true }, t("search.prev")),
    next: h("button", { type: "button", class: "btn", id: "ps-next", disabled: true }, t("search.next")),
    pageNo: h("span", { class: "muted", id: "ps-page" }),
  };
  v.form = h("form", { class: "toolbar-form ps-form", "aria-label": t("search.title") },
    h("label", { for: "ps-plate" }, t("search.plate")), f.plate,
    h("label", { for: "ps-since" }, t("traj.since")), f.since,
    h("label", { for: "ps-until" }, t("traj.until")), f.until,
    h("label", { for: "ps-cameras" }, t("search.cameras")), f.cameras,
    h("label", { for: "ps-color" }, t("search.color")), f.color,
    h("button", { type: "submit", class: "btn btn-primary" }, t("traj.search")), v.exportBtn,
    h("p", { id: "ps-hint", class: "muted ps-hint" }, t("search.hint")));
  const table = h("table", { class: "table ps-table", id: "ps-table" },
    h("caption", { class: "sr-only" }, t("search.title")),
    h("thead", {}, h("tr", {}, ["search.col.snapshot", "search.col.plate", "search.color", "search.col.type",
      "search.col.camera", "search.col.time", "search.col.confidence", "search.col.actions"]
      .map((k) => h("th", { scope: "col" }, t(k))))), v.tbody);
  root.append(h("div", { class: "view-head" }, h("h1", {}, t("search.title"))), v.form,
    h("section", { class: "panel" }, v.status, table, h("div", { class: "ps-pager" }, v.prev, v.pageNo, v.next)));
  return v;
}

/** Every match as CSV: fetched with the token, saved through a temporary blob: link. */
async function exportCsv(f, status) {
  const q = paramsOf(f);
  q.set("format", "csv");
  setText(status, t("search.exporting"));
  try {
    const url = await blobUrl(`/api/sightings/search?${q}`);
    const a = h("a", { href: url, download: "sightings.csv", hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    setText(status, t("search.exported"));
  } catch (err) {
    setText(status, problemText(err));
  }
}

export function mount(root, _params, query) {
  const f = formFrom(query);
  const v = layout(root, f);
  let alive = true;
  let cursors = [null]; // cursors[i] fetches page i + 1
  let page = 0;

  async function load() {
    const q = paramsOf(f);
    if (cursors[page]) q.set("cursor", cursors[page]);
    setText(v.status, t("detail.loading"));
    try {
      const res = await get(`/api/sightings/search?${q}`);
      if (!alive) return;
      cursors = cursors.slice(0, page + 1);
      if (res.next_cursor) cursors.push(res.next_cursor);
      v.tbody.replaceChildren(...res.items.map(rowOf));
      setText(v.status, res.items.length ? t("search.count", { n: res.items.length, more: res.has_more ? "+" : "" })
        : t("search.empty"));
      setText(v.pageNo, t("search.page", { n: page + 1 }));
      v.prev.disabled = page === 0;
      v.next.disabled = !res.has_more;
    } catch (err) {
      if (alive) setText(v.status, problemText(err));
    }
  }

  function search() {
    history.replaceState(null, "", `#/search?${paramsOf(f)}`);
    cursors = [null];
    page = 0;
    load();
  }

  // The shared camera list may not be loaded yet on a fresh page: read it here too.
  get("/api/cameras").then((cams) => {
    if (!alive || !Array.isArray(cams)) return;
    const picked = new Set([...f.cameras.selectedOptions].map((o) => o.value));
    f.cameras.replaceChildren(...cameraOptions(cams, picked.size ? picked : f.chosen));
  }, () => {});
  v.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    search();
  });
  v.exportBtn.addEventListener("click", () => exportCsv(f, v.status));
  v.prev.addEventListener("click", () => { if (page > 0) { page -= 1; load(); } });
  v.next.addEventListener("click", () => { if (cursors[page + 1]) { page += 1; load(); } });
  if ([...query.keys()].length) search();
  else f.plate.focus();
  return {
    unmount() {
      alive = false;
      clear(root);
    },
    onKey() {
      return false;
    },
  };
}
