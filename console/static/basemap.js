// @ts-check
// The map of the map and trajectory views. With tiles configured (service.yaml
// console.map: the centre's PGIS/offline tile server, or a tile folder Vigil serves under
// /tiles/) it is a street map drawn by Leaflet, which Vigil serves itself from
// vendor/leaflet/ (installed from npm at build time; the police network is offline).
// Without tiles, or when Leaflet cannot be loaded, it is the grid map of geo.js; the server
// log says why. Both have the same interface, and camera positions are converted into the
// tiles' coordinate system (GCJ-02 street maps are offset by hundreds of metres from GPS).

import { get } from "./api.js";
import { h } from "./dom.js";
import { evidenceSrc } from "./evidence.js";
import { createMap, toMapCrs } from "./geo.js";
import { t } from "./i18n.js";

const MAX_LABELS = 60; // more markers than this: labels only on hover, as on the grid
const LINES_PER_PLACE = 4; // time labels shown at one place; the rest as "+n"
const CHINA = [35, 105];
let settingsPromise = null;
let leafletPromise = null;

/** The server's map settings, asked once per page. */
function mapSettings() {
  settingsPromise ??= get("/api/map").catch((err) => ({ tiles: "none", reason: err.message }));
  return settingsPromise;
}

/** Leaflet's module and stylesheet, from Vigil; rejects when either cannot be loaded. */
function loadLeaflet(s) {
  leafletPromise ??= Promise.all([
    import(`./${s.library}`),
    new Promise((resolve, reject) => {
      const link = h("link", { rel: "stylesheet", href: s.stylesheet });
      link.addEventListener("load", resolve);
      link.addEventListener("error", () => reject(new Error(`${s.stylesheet} did not load`)));
      document.head.append(link);
    }),
  ]).then(([L]) => L);
  return leafletPromise;
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Points at the same spot (passes at one camera) become one marker listing them all. */
function byPlace(points) {
  const places = new Map();
  for (const p of points) {
    const key = `${p.lat.toFixed(6)},${p.lon.toFixed(6)}`;
    if (!places.has(key)) places.set(key, []);
    places.get(key).push(p);
  }
  return [...places.values()];
}

function placeLabel(group) {
  const shown = group.slice(0, LINES_PER_PLACE);
  const first = group.find((p) => p.thumb);
  const img = first ? h("img", { class: "lf-thumb", alt: first.title || first.label, hidden: true }) : null;
  if (img) evidenceSrc(first.thumb).then((src) => { img.src = src; img.hidden = false; }, () => img.remove());
  return h("div", { class: "lf-label-body" }, img,
    h("div", {}, shown.map((p) => h("div", { class: "lf-line" }, p.label)),
      group.length > shown.length ? h("div", { class: "lf-line muted" },
        t("map.more", { n: group.length - shown.length })) : null));
}

/**
 * The Leaflet map: tiles, camera markers with labels, a route in time order.
 * @param {any} L the Leaflet module (vendor/leaflet/, loaded with import())
 * @param {HTMLElement} container
 * @param {any} s the map settings from the server
 * @param {import("./geo.js").MapOptions} [options]
 */
function leafletMap(L, container, s, { onSelect, label } = {}) {
  const el = h("div", { class: "map-wrap lf-map", role: "group", "aria-label": label || t("map.label") });
  container.append(el);
  const map = L.map(el, { minZoom: s.min_zoom, maxZoom: s.max_zoom, zoomControl: true });
  map.attributionControl.setPrefix("Leaflet");
  L.tileLayer(s.url, { minZoom: s.min_zoom, maxZoom: s.max_zoom,
    attribution: s.attribution ? escapeHtml(s.attribution) : "" }).addTo(map);
  map.setView(CHINA, s.min_zoom);
  const marks = L.layerGroup().addTo(map);
  const paths = L.layerGroup().addTo(map);
  let points = [];
  let route = [];
  let selected = null;

  function marker(group, labels) {
    const p = group.find((x) => x.id === selected) || group[0];
    const active = group.filter((x) => !x.passive);
    const badge = group.length > 1 ? `×${group.length}` : p.badge ?? "";
    const cls = `lf-mark mark ${p.cls || ""}${group.some((x) => x.ring) ? " alerting" : ""}`
      + `${group.some((x) => x.id === selected) ? " selected" : ""}${p.small ? " small" : ""}`;
    const m = L.marker([p.lat, p.lon], {
      icon: L.divIcon({ className: cls, html: h("span", { class: "lf-dot" }, String(badge)),
        iconSize: [24, 24], iconAnchor: [12, 12] }),
      interactive: active.length > 0, keyboard: active.length > 0,
      title: group.map((x) => x.title || x.label).join("\n"),
      riseOnHover: true, zIndexOffset: p.passive ? -1000 : 0,
    });
    if (labels && group.some((x) => x.label)) {
      m.bindTooltip(placeLabel(group), { permanent: true, direction: "right", offset: [14, 0],
        className: `lf-label${p.passive ? " lf-label-quiet" : ""}` });
    }
    if (active.length) m.on("click", () => onSelect?.(active[0].id));
    m.addTo(marks);
    const icon = m.getElement();
    if (icon && active.length) {
      icon.dataset.id = active[0].id;
      icon.setAttribute("role", "button");
      icon.setAttribute("aria-label", active.map((x) => x.title || x.label).join("; "));
    }
  }

  function drawMarks() {
    marks.clearLayers();
    const groups = byPlace(points);
    groups.forEach((g) => marker(g, groups.length <= MAX_LABELS));
  }

  function drawRoute() {
    paths.clearLayers();
    if (route.length < 2) return;
    const line = route.map((p) => [p.lat, p.lon]);
    L.polyline(line, { className: "lf-route", interactive: false }).addTo(paths);
    for (let i = 1; i < line.length; i += 1) { // a chevron mid-leg: which way the car went
      const a = map.project(line[i - 1], 0);
      const b = map.project(line[i], 0);
      if (a.distanceTo(b) < 1e-9) continue;
      const turn = h("span", { class: "lf-arrow" });
      turn.style.transform = `rotate(${(Math.atan2(b.y - a.y, b.x - a.x) * 180) / Math.PI}deg)`;
      L.marker([(line[i - 1][0] + line[i][0]) / 2, (line[i - 1][1] + line[i][1]) / 2], {
        icon: L.divIcon({ className: "lf-arrow-icon", html: turn, iconSize: [16, 16], iconAnchor: [8, 8] }),
        interactive: false, keyboard: false,
      }).addTo(paths);
    }
  }

  function fit() {
    const all = [...points, ...route];
    if (!all.length) return;
    const bounds = L.latLngBounds(all.map((p) => [p.lat, p.lon]));
    map.fitBounds(bounds, { padding: [60, 60], maxZoom: Math.min(s.max_zoom, 17) });
  }

  // Until the operator pans or zooms, keep every point in view as the layout settles.
  let moved = false;
  for (const ev of ["pointerdown", "wheel", "keydown"]) el.addEventListener(ev, () => { moved = true; });
  const resize = new ResizeObserver(() => {
    map.invalidateSize();
    if (!moved) fit();
  });
  resize.observe(el);
  return {
    kind: "leaflet",
    setPoints(list) {
      points = list;
      drawMarks();
      if (!moved) fit();
    },
    setRoute(list) {
      route = list;
      drawRoute();
      fit();
    },
    select(id) {
      selected = id;
      drawMarks();
      const p = points.find((x) => x.id === id);
      if (p && !map.getBounds().contains([p.lat, p.lon])) map.panTo([p.lat, p.lon]);
    },
    fit,
    zoomIn: () => map.zoomIn(),
    zoomOut: () => map.zoomOut(),
    hasPoints: () => points.length > 0 || route.length > 0,
    destroy() {
      resize.disconnect();
      map.remove();
      el.remove();
    },
  };
}

/** createMap's interface, ready at once; the real map (street or grid) arrives when the
 * settings (and Leaflet) are loaded, and is handed everything set before that. Points
 * carry their `crs` and are converted to the map's system here. */
export function createBaseMap(container, opts = {}) {
  let impl = null;
  let crs = "WGS84";
  let gone = false;
  const state = { points: [], route: [], selected: null };
  const place = (p) => {
    const [lon, lat] = toMapCrs(p.lon, p.lat, p.crs, crs);
    return { ...p, lon, lat };
  };
  const usable = (list) => list.filter((p) => Number.isFinite(p.lon) && Number.isFinite(p.lat)).map(place);
  const ready = mapSettings().then(async (s) => {
    if (s.tiles !== "none") {
      try {
        const L = await loadLeaflet(s);
        if (gone) return;
        crs = s.crs;
        impl = leafletMap(L, container, s, opts);
      } catch (err) {
        console.warn(`street map unavailable, using the grid: ${err.message}`);
      }
    }
    if (gone) return;
    impl ??= { kind: "grid", ...createMap(container, opts) };
    impl.setPoints(usable(state.points));
    if (state.route.length) impl.setRoute(usable(state.route));
    if (state.selected) impl.select(state.selected);
  });
  return {
    ready,
    kind: () => impl?.kind ?? null,
    setPoints(list) {
      state.points = list;
      impl?.setPoints(usable(list));
    },
    setRoute(list) {
      state.route = list;
      impl?.setRoute(usable(list));
    },
    select(id) {
      state.selected = id;
      impl?.select(id);
    },
    fit: () => impl?.fit(),
    zoomIn: () => impl?.zoomIn(),
    zoomOut: () => impl?.zoomOut(),
    hasPoints: () => state.points.length > 0 || state.route.length > 0,
    destroy() {
      gone = true;
      impl?.destroy();
    },
  };
}
