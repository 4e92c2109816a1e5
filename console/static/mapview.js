// @ts-check
// The camera map: every camera with a position, coloured by its state; cameras with an
// unsigned alert pulse until it is signed for (or dismissed), however long that takes.
// Selecting a camera shows its details and its recent alerts beside the map. The map is a
// street map when tiles are configured, else the grid (basemap.js).

import { clear, fmtCoord, fmtTime, h, levelName, setText, subjectOf } from "./dom.js";
import { createBaseMap } from "./basemap.js";
import { t } from "./i18n.js";
import { alertingCameras, cameraBadge, getCamera, listCameras, recentAlertsFor, subscribe } from "./state.js";

const LEGEND = ["streaming", "stalled", "tamper", "offline"];
const ORDER = ["tamper", "offline", "stalled", "degraded", "connecting", "streaming", "disabled"];

export function mount(root) {
  const side = h("aside", { class: "map-side panel", "aria-live": "polite" });
  const area = h("div", { class: "map-area" });
  const note = h("span", { class: "view-count" });
  root.append(h("div", { class: "view-head" }, h("h1", {}, t("map.title")), note),
    h("div", { class: "map-layout" }, area, side));
  let selected = null;
  const map = createBaseMap(area, { onSelect: (id) => choose(id) });

  function points() {
    const alerting = alertingCameras();
    return listCameras().filter((c) => c.location).map((c) => {
      const b = cameraBadge(c);
      const hot = alerting.has(c.id);
      return {
        id: c.id, lon: Number(c.location.lon), lat: Number(c.location.lat), crs: c.location.crs,
        cls: `cam-${b}${hot ? " alerting" : ""}`, ring: hot, label: c.name || c.id,
        title: `${c.name || c.id} · ${t(`cam.${b}`)}${hot ? ` · ${t("map.alerting")}` : ""}`,
      };
    });
  }

  function legend() {
    return h("div", { class: "legend", "aria-label": t("map.legend") },
      LEGEND.map((b) => h("span", { class: `legend-item cam-${b}` }, h("i", { class: "legend-dot" }), t(`cam.${b}`))),
      h("span", { class: "legend-item alerting" }, h("i", { class: "legend-dot legend-ring" }), t("map.alerting")));
  }

  function choose(id) {
    selected = id;
    map.select(id);
    renderSide();
  }

  /** Nothing selected: every camera as a list (worst state first) — the map's text twin. */
  function cameraList() {
    const alerting = alertingCameras();
    const rank = (c) => (alerting.has(c.id) ? 0 : 1 + ORDER.indexOf(cameraBadge(c)));
    const cams = listCameras().sort((a, b) => rank(a) - rank(b)
      || String(a.name || a.id).localeCompare(String(b.name || b.id), "zh"));
    return h("ul", { class: "cam-list" }, cams.map((c) => h("li", {},
      h("button", { type: "button", class: "cam-item", onclick: () => choose(c.id) },
        h("span", { class: `badge badge-${cameraBadge(c)}` }, t(`cam.${cameraBadge(c)}`)),
        h("span", { class: "cam-name" }, c.name || c.id),
        alerting.has(c.id) ? h("span", { class: "tag tag-late" }, t("map.alerting")) : null))));
  }

  function renderSide() {
    const c = selected ? getCamera(selected) : null;
    if (!c) {
      side.replaceChildren(h("h2", { class: "panel-title" }, t("map.cameras")), cameraList(), legend());
      return;
    }
    const loc = c.location || {};
    const alerts = recentAlertsFor(c.id);
    side.replaceChildren(
      h("div", { class: "side-head" }, h("h2", { class: "panel-title" }, c.name || c.id),
        h("button", { type: "button", class: "btn btn-small", onclick: () => choose(null) }, t("wall.close"))),
      h("dl", { class: "facts" },
        h("dt", {}, t("wl.status")), h("dd", {}, h("span", { class: `badge badge-${cameraBadge(c)}` }, t(`cam.${cameraBadge(c)}`))),
        h("dt", {}, "ID"), h("dd", {}, c.id),
        c.group ? [h("dt", {}, t("cam.group")), h("dd", {}, c.group)] : null,
        loc.address ? [h("dt", {}, t("detail.address")), h("dd", {}, loc.address)] : null,
        h("dt", {}, t("detail.position")), h("dd", {}, `${fmtCoord(loc.lon, loc.lat)} ${loc.crs || ""}`)),
      h("h3", { class: "panel-sub" }, t("map.recent")),
      alerts.length ? h("ul", { class: "mini-alerts" }, alerts.map((a) => h("li", {},
        h("a", { href: `#/alert/${encodeURIComponent(a.alert_id)}` },
          h("span", { class: `lvl lvl-${a.level}` }, levelName(a.level)), " ",
          h("span", { class: "plate" }, subjectOf(a)), " ",
          h("span", { class: "muted" }, fmtTime(a.raised_at))))))
        : h("p", { class: "muted" }, t("map.none")),
      legend());
  }

  function refresh() {
    const pts = points();
    map.setPoints(pts);
    setText(note, pts.length ? t("wall.count", { n: pts.length }) : t("map.nolocation"));
    renderSide();
  }

  const unsubscribe = subscribe(() => refresh());
  // A safety net: every change arrives as an event, but a missed one must not leave a
  // camera flashing (or dark) for long.
  const timer = setInterval(refresh, 15000);
  refresh();
  return {
    unmount() {
      unsubscribe();
      clearInterval(timer);
      map.destroy();
      clear(root);
    },
    onKey(key) {
      if (key === "Escape" && selected) {
        choose(null);
        return true;
      }
      if (key === "+" || key === "=") map.zoomIn();
      else if (key === "-") map.zoomOut();
      else return false;
      return true;
    },
  };
}
