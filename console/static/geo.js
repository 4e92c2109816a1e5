// @ts-check
// A small local map in SVG: no tiles, no network (the fallback of basemap.js). Points are projected equirectangularly
// around the view centre (longitude scaled by cos(latitude), good to a few metres at city
// scale), a graticule with degree labels gives orientation, and the view fits all points.
// Drag to pan, wheel or +/- buttons to zoom. Used by the map and trajectory views.

import { h, svg } from "./dom.js";
import { t } from "./i18n.js";

const PAD = 64; // px kept free around the points when fitting (labels need room)
const PAD_RIGHT = 150; // labels run to the right, and the zoom buttons sit there
const STEPS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** Rough width of a label at 15 px: CJK characters are square, the rest about half. */
function textWidth(text) {
  let w = 0;
  for (const ch of text) w += ch.charCodeAt(0) > 0x2e80 ? 15 : 8.5;
  return w;
}

const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

/** First of right / left / below / above where the label hits no dot or earlier label. */
function placeLabel(text, x, y, taken, gap = 13) {
  const w = textWidth(text);
  const options = [
    { dx: gap, dy: 5, anchor: "start", box: [x + gap - 1, y - 10, x + gap + 1 + w, y + 8] },
    { dx: -gap, dy: 5, anchor: "end", box: [x - gap - 1 - w, y - 10, x - gap + 1, y + 8] },
    { dx: 0, dy: 26, anchor: "middle", box: [x - w / 2, y + 11, x + w / 2, y + 30] },
    { dx: 0, dy: -16, anchor: "middle", box: [x - w / 2, y - 31, x + w / 2, y - 12] },
  ];
  const pick = options.find((o) => !taken.some((b) => overlaps(o.box, b))) || options[0];
  taken.push(pick.box);
  return pick;
}

/**
 * @typedef {object} MapOptions
 * @property {(id: string) => void} [onSelect] called with a camera's id when it is chosen
 * @property {string} [label] the map's accessible name
 */

/**
 * @param {HTMLElement} container
 * @param {MapOptions} [options]
 */
export function createMap(container, { onSelect, label } = {}) {
  const root = svg("svg", { class: "map-svg", role: "group", "aria-label": label || t("map.label") });
  const grid = svg("g", { class: "graticule" });
  const paths = svg("g", { class: "paths" });
  const marks = svg("g", { class: "marks" });
  root.append(grid, paths, marks);
  const zoomIn = h("button", { type: "button", class: "btn map-btn", "aria-label": t("map.zoomin"),
    title: t("map.zoomin") }, "+");
  const zoomOut = h("button", { type: "button", class: "btn map-btn", "aria-label": t("map.zoomout"),
    title: t("map.zoomout") }, "−");
  const fitBtn = h("button", { type: "button", class: "btn map-btn", "aria-label": t("map.fit"),
    title: t("map.fit") }, "⤢");
  const wrap = h("div", { class: "map-wrap" }, root,
    h("div", { class: "map-controls" }, zoomIn, zoomOut, fitBtn));
  container.append(wrap);

  let points = []; // {id, lon, lat, cls, label, ring, title}
  let route = []; // [{lon, lat, n}]
  let selected = null;
  const view = { lon: 0, lat: 0, scale: 1 }; // scale: px per degree of latitude
  let fitted = false;
  let frame = 0;

  const size = () => ({ w: root.clientWidth || 800, h: root.clientHeight || 600 });
  const kx = () => Math.cos((view.lat * Math.PI) / 180);
  function project(lon, lat) {
    const { w, h: hh } = size();
    return [w / 2 + (lon - view.lon) * kx() * view.scale, hh / 2 - (lat - view.lat) * view.scale];
  }
  function unproject(x, y) {
    const { w, h: hh } = size();
    return [view.lon + (x - w / 2) / (kx() * view.scale), view.lat - (y - hh / 2) / view.scale];
  }

  function fit() {
    const all = [...points, ...route].filter((p) => Number.isFinite(p.lon) && Number.isFinite(p.lat));
    if (!all.length) return;
    const lons = all.map((p) => p.lon);
    const lats = all.map((p) => p.lat);
    const [minLon, maxLon, minLat, maxLat] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
    view.lon = (minLon + maxLon) / 2;
    view.lat = (minLat + maxLat) / 2;
    const { w, h: hh } = size();
    const spanX = Math.max((maxLon - minLon) * kx(), 0.002);
    const spanY = Math.max(maxLat - minLat, 0.002);
    view.scale = Math.min((w - PAD - PAD_RIGHT) / spanX, (hh - 2 * PAD) / spanY);
    view.lon -= (PAD - PAD_RIGHT) / 2 / (kx() * view.scale); // keep clear of the zoom buttons
    fitted = true;
    draw();
  }

  function drawGrid() {
    const { w, h: hh } = size();
    const [lon0, lat1] = unproject(0, 0);
    const [lon1, lat0] = unproject(w, hh);
    const step = STEPS.find((s) => (lat1 - lat0) / s <= 7) || 10;
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    const items = [];
    for (let lon = Math.ceil(lon0 / step) * step; lon <= lon1; lon += step) {
      const [x] = project(lon, 0);
      items.push(svg("line", { x1: x, y1: 0, x2: x, y2: hh }),
        svg("text", { x: x + 4, y: hh - 8, class: "grid-label" }, `${lon.toFixed(digits)}°E`));
    }
    for (let lat = Math.ceil(lat0 / step) * step; lat <= lat1; lat += step) {
      const [, y] = project(0, lat);
      items.push(svg("line", { x1: 0, y1: y, x2: w, y2: y }),
        svg("text", { x: 6, y: y - 4, class: "grid-label" }, `${lat.toFixed(digits)}°N`));
    }
    grid.replaceChildren(...items);
  }

  function drawRoute() {
    if (route.length < 1) {
      paths.replaceChildren();
      return;
    }
    const xy = route.map((p) => project(p.lon, p.lat));
    /** @type {SVGElement[]} */
    const items = [svg("polyline", { class: "route", points: xy.map((p) => p.join(",")).join(" ") })];
    for (let i = 1; i < xy.length; i += 1) { // a chevron in the middle of each leg: direction
      const [x1, y1] = xy[i - 1];
      const [x2, y2] = xy[i];
      const ang = (Math.atan2(y2 - y1, x2 - x1) * 180) / Math.PI;
      items.push(svg("path", { class: "route-arrow", d: "M -7 -6 L 5 0 L -7 6",
        transform: `translate(${(x1 + x2) / 2} ${(y1 + y2) / 2}) rotate(${ang})` }));
    }
    route.forEach((p, i) => items.push(svg("g", { class: "route-stop", transform: `translate(${xy[i][0]} ${xy[i][1]})` },
      svg("circle", { r: 11 }), svg("text", { "text-anchor": "middle", dy: "0.35em" }, String(p.n ?? i + 1)))));
    paths.replaceChildren(...items);
  }

  function drawMarks() {
    const showLabels = points.length <= 60;
    const focused = /** @type {SVGElement | null | undefined} */ (document.activeElement?.closest?.(".mark"))?.dataset.id;
    const xy = points.map((p) => project(p.lon, p.lat));
    const taken = xy.map(([x, y]) => [x - 9, y - 9, x + 9, y + 9]); // the dots themselves
    marks.replaceChildren(...points.map((p, i) => {
      const [x, y] = xy[i];
      const label = showLabels && p.label ? placeLabel(p.label, x, y, taken, p.ring ? 21 : 13) : null;
      const g = svg("g", { class: `mark ${p.cls || ""}${p.id === selected ? " selected" : ""}`,
        transform: `translate(${x} ${y})`, tabindex: p.passive ? null : "0",
        role: p.passive ? null : "button", "aria-label": p.passive ? null : p.title || p.label,
        "data-id": p.id },
      svg("title", {}, p.title || p.label),
      p.ring ? svg("circle", { class: "ring", r: 16 }) : null,
      svg("circle", { class: "dot", r: p.small ? 5 : 8 }),
      label ? svg("text", { class: "mark-label", x: label.dx, y: label.dy, "text-anchor": label.anchor }, p.label) : null);
      return g;
    }));
    if (focused) {
      /** @type {SVGElement | null} */ (marks.querySelector(`[data-id="${CSS.escape(focused)}"]`))
        ?.focus({ preventScroll: true });
    }
  }

  function draw() {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      drawGrid();
      drawRoute();
      drawMarks();
    });
  }

  function zoomBy(f, cx, cy) {
    const { w, h: hh } = size();
    const [lon, lat] = unproject(cx ?? w / 2, cy ?? hh / 2);
    view.scale = Math.min(5e6, Math.max(50, view.scale * f));
    const [nx, ny] = project(lon, lat); // keep the point under the cursor still
    const [clon, clat] = unproject(w / 2 + (nx - (cx ?? w / 2)), hh / 2 + (ny - (cy ?? hh / 2)));
    view.lon = clon;
    view.lat = clat;
    draw();
  }

  zoomIn.addEventListener("click", () => zoomBy(1.5));
  zoomOut.addEventListener("click", () => zoomBy(1 / 1.5));
  fitBtn.addEventListener("click", fit);
  root.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = root.getBoundingClientRect();
    zoomBy(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  let drag = null;
  root.addEventListener("pointerdown", (ev) => {
    if (/** @type {Element} */ (ev.target).closest(".mark")) return;
    drag = { x: ev.clientX, y: ev.clientY, lon: view.lon, lat: view.lat };
    root.setPointerCapture(ev.pointerId);
  });
  root.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    view.lon = drag.lon - (ev.clientX - drag.x) / (kx() * view.scale);
    view.lat = drag.lat + (ev.clientY - drag.y) / view.scale;
    draw();
  });
  root.addEventListener("pointerup", () => {
    drag = null;
  });
  const pick = (ev) => {
    const g = ev.target.closest(".mark");
    if (g && onSelect) onSelect(g.dataset.id);
  };
  marks.addEventListener("click", pick);
  marks.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      pick(ev);
    }
  });
  const resize = new ResizeObserver(() => (fitted ? draw() : fit()));
  resize.observe(root);

  return {
    setPoints(list) {
      points = list.filter((p) => Number.isFinite(p.lon) && Number.isFinite(p.lat));
      if (!fitted) fit();
      else draw();
    },
    setRoute(list) {
      route = list.filter((p) => Number.isFinite(p.lon) && Number.isFinite(p.lat));
      fitted = false;
      fit();
      if (!route.length) draw();
    },
    select(id) {
      selected = id;
      draw();
    },
    fit,
    zoomIn: () => zoomBy(1.5),
    zoomOut: () => zoomBy(1 / 1.5),
    hasPoints: () => points.length > 0 || route.length > 0,
    destroy() {
      resize.disconnect();
      cancelAnimationFrame(frame);
      wrap.remove();
    },
  };
}

// ---- Chinese map datums -------------------------------------------------------------
// Street maps published in China are drawn in GCJ-02: WGS-84 shifted by a public,
// deterministic formula (a few hundred metres, varying smoothly). Baidu adds its own
// shift on top (BD-09). CGCS2000 differs from WGS-84 by centimetres and is taken as equal.
// Forward transforms are closed formulas; GCJ-02 → WGS-84 has none and is solved by
// fixed-point iteration (each step divides the error by ~1000: 1e-9° after 3-4 steps).

const KRASOVSKY_A = 6378245.0; // semi-major axis of the Krasovsky 1940 ellipsoid (m)
const KRASOVSKY_EE = 0.00669342162296594323; // its first eccentricity squared
const BD_FACTOR = (Math.PI * 3000.0) / 180.0;

/** Outside mainland China (rough box) the shift is not applied, as the maps do. */
export function outsideChina(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function shiftLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function shiftLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

/** WGS-84 → GCJ-02, [lon, lat] in degrees. */
export function wgs84ToGcj02(lon, lat) {
  if (outsideChina(lon, lat)) return [lon, lat];
  const dLat0 = shiftLat(lon - 105.0, lat - 35.0);
  const dLon0 = shiftLon(lon - 105.0, lat - 35.0);
  const rad = (lat / 180.0) * Math.PI;
  const s = Math.sin(rad);
  const magic = 1 - KRASOVSKY_EE * s * s;
  const sq = Math.sqrt(magic);
  const dLat = (dLat0 * 180.0) / (((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sq)) * Math.PI);
  const dLon = (dLon0 * 180.0) / ((KRASOVSKY_A / sq) * Math.cos(rad) * Math.PI);
  return [lon + dLon, lat + dLat];
}

/** GCJ-02 → WGS-84 by iteration: find w with wgs84ToGcj02(w) = g (to ~1e-10°, < 1 cm). */
export function gcj02ToWgs84(lon, lat) {
  if (outsideChina(lon, lat)) return [lon, lat];
  let [wLon, wLat] = [lon, lat];
  for (let i = 0; i < 10; i += 1) {
    const [gLon, gLat] = wgs84ToGcj02(wLon, wLat);
    const eLon = gLon - lon;
    const eLat = gLat - lat;
    wLon -= eLon;
    wLat -= eLat;
    if (Math.abs(eLon) < 1e-10 && Math.abs(eLat) < 1e-10) break;
  }
  return [wLon, wLat];
}

/** BD-09 (Baidu) → GCJ-02. */
export function bd09ToGcj02(lon, lat) {
  const x = lon - 0.0065;
  const y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * BD_FACTOR);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * BD_FACTOR);
  return [z * Math.cos(theta), z * Math.sin(theta)];
}

/** GCJ-02 → BD-09 (Baidu). */
export function gcj02ToBd09(lon, lat) {
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * BD_FACTOR);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * BD_FACTOR);
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
}

/** A camera position in `from` (WGS84, GCJ02, BD09, CGCS2000) → the map's `to` (WGS84 or
 * GCJ02), [lon, lat]. Unknown systems are taken as WGS-84. */
export function toMapCrs(lon, lat, from, to) {
  const src = String(from || "WGS84").toUpperCase();
  let gcj = null;
  if (src === "GCJ02") gcj = [lon, lat];
  else if (src === "BD09") gcj = bd09ToGcj02(lon, lat);
  if (to === "GCJ02") return gcj || wgs84ToGcj02(lon, lat);
  return gcj ? gcj02ToWgs84(gcj[0], gcj[1]) : [lon, lat];
}
