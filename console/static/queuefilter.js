// @ts-check
// The queue's filters (level, state, camera or camera group, rule, category, time range,
// text) and the bar that sets them. The same filters run in two places, on purpose:
// on the server (GET /api/alerts with the same parameters), so alerts the page does not
// hold yet — last night's, or beyond the first 500 — are fetched; and here, on every alert
// the page holds, so alerts arriving live appear or leave at once without a new request.
// The text search matches the plate in any spelling, the zone, the camera id, name and
// address, as the server does (docs/console-api.md).

import { get } from "./api.js";
import { categoryName, fromLocalInput, h, levelName, stateName, toLocalInput } from "./dom.js";
import { t } from "./i18n.js";
import { OPEN_STATES, getCamera, listAlerts, listCameras, setAlerts } from "./state.js";

const KEY = "vigil.queue.filters";
const EMPTY = { scope: "open", levels: [], state: "", camera: "", rule: "", category: "",
  since: null, until: null, q: "", group: true };
const STATES = ["new", "signed", "disposing", "feedback", "closed", "dismissed"];
const CATEGORIES = ["stolen", "wanted", "key_vehicle", "cloned_suspect", "custom", "intrusion",
  "line_cross", "loitering", "crowd", "tamper"];

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "{}");
    if (sessionStorage.getItem("vigil.queue.filter") === "all" && !saved.scope) saved.scope = "all";
    return { ...EMPTY, ...saved };
  } catch {
    return { ...EMPTY };
  }
}

let filters = load();

export const getFilters = () => filters;

export function setFilters(patch) {
  filters = { ...filters, ...patch };
  sessionStorage.setItem(KEY, JSON.stringify(filters));
}

/** True when anything narrows the list beyond open/all. */
export function narrowed(f = filters) {
  return Boolean(f.levels.length || f.state || f.camera || f.rule || f.category || f.since
    || f.until || f.q.trim());
}

/** A plate as stored: half-width, upper case, no separators (core/plates.py normalize). */
export const plateNorm = (s) => String(s || "").normalize("NFKC")
  .replace(/[\s·•・‧∙⋅\-‐‑‒–—―−.。]/g, "").toUpperCase();

function textMatch(a, q) {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  const cam = getCamera(a.camera_id) || {};
  const hay = [a.subject, a.camera_id, a.camera_name, a.address, cam.name,
    cam.location && cam.location.address, a.observation && a.observation.zone];
  if (hay.some((s) => s && String(s).toLowerCase().includes(needle))) return true;
  const plate = plateNorm(q);
  return Boolean(plate) && String(a.subject || "").toUpperCase().includes(plate);
}

function cameraMatch(a, camera) {
  if (!camera) return true;
  const [kind, ...rest] = camera.split(":");
  const id = rest.join(":");
  if (kind === "group") {
    const cam = getCamera(a.camera_id);
    return Boolean(cam) && cam.group === id;
  }
  return a.camera_id === id;
}

/** Does the alert pass the filters? (The server's rules, on the page's copy.) */
export function matches(a, f = filters) {
  if (f.state ? a.state !== f.state : f.scope === "open" && !OPEN_STATES.has(a.state)) return false;
  if (f.levels.length && !f.levels.includes(a.level)) return false;
  if (f.rule && a.rule_id !== f.rule) return false;
  if (f.category && a.category !== f.category) return false;
  if (f.since && a.raised_at < f.since) return false;
  if (f.until && a.raised_at >= f.until) return false;
  return cameraMatch(a, f.camera) && textMatch(a, f.q);
}

/** The filters as GET /api/alerts parameters. */
export function queryOf(f = filters) {
  const p = new URLSearchParams();
  if (f.state) p.append("state", f.state);
  else if (f.scope === "open") OPEN_STATES.forEach((s) => p.append("state", s));
  f.levels.forEach((l) => p.append("level", String(l)));
  if (f.camera) {
    const [kind, ...rest] = f.camera.split(":");
    p.append(kind === "group" ? "group" : "camera_id", rest.join(":"));
  }
  if (f.rule) p.append("rule_id", f.rule);
  if (f.category) p.append("category", f.category);
  if (f.since) p.append("since", String(f.since));
  if (f.until) p.append("until", String(f.until));
  if (f.q.trim()) p.append("q", f.q.trim());
  p.append("limit", "500");
  return p.toString();
}

/** Ask the server for every alert that matches (up to 500) and merge them into the page. */
export async function fetchMatching() {
  const res = await get(`/api/alerts?${queryOf()}`);
  setAlerts(res.items || [], { preferExisting: true });
  return Boolean(res.has_more);
}

function options(select, values, label, current) {
  const sig = values.join("\u0001");
  if (select.dataset.sig === sig) return;
  select.dataset.sig = sig;
  select.replaceChildren(h("option", { value: "" }, label),
    values.map((v) => h("option", { value: v, selected: v === current }, v)));
}

function known(field, extra, current) {
  const seen = new Set(extra);
  for (const a of listAlerts("all")) if (a[field]) seen.add(a[field]);
  if (current) seen.add(current);
  return [...seen].sort();
}

function cameraOptions(select, current) {
  const cams = listCameras().sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const groups = [...new Set(cams.map((c) => c.group).filter(Boolean))].sort();
  const sig = cams.map((c) => `${c.id}|${c.name}|${c.group}`).join("\u0001");
  if (select.dataset.sig === sig) return;
  select.dataset.sig = sig;
  select.replaceChildren(h("option", { value: "" }, t("queue.f.camera.any")),
    h("optgroup", { label: t("queue.f.groups") }, groups.map((g) =>
      h("option", { value: `group:${g}`, selected: current === `group:${g}` }, g))),
    h("optgroup", { label: t("queue.f.cameras") }, cams.map((c) =>
      h("option", { value: `camera:${c.id}`, selected: current === `camera:${c.id}` }, c.name || c.id))));
}

/** The filter bar. onChange(serverToo) runs after every change. Returns {el, refresh}. */
export function filterBar(onChange) {
  const f = filters;
  const change = (patch) => {
    setFilters(patch);
    onChange(true);
  };
  const levels = [1, 2, 3, 4].map((l) => h("button", {
    type: "button", class: `chip lvl-chip lvl-${l}`, "aria-pressed": String(f.levels.includes(l)),
    dataset: { level: String(l) },
    onclick: (ev) => {
      const set = new Set(filters.levels);
      if (set.has(l)) set.delete(l); else set.add(l);
      ev.currentTarget.setAttribute("aria-pressed", String(set.has(l)));
      change({ levels: [...set].sort() });
    },
  }, levelName(l)));
  const select = (id, label, onpick) => h("select", { id, "aria-label": label,
    onchange: (ev) => onpick(ev.target.value) });
  const state = select("qf-state", t("queue.f.state"), (v) => change({ state: v }));
  state.append(h("option", { value: "" }, t("queue.f.state.any")),
    ...STATES.map((s) => h("option", { value: s, selected: s === f.state }, stateName(s))));
  const camera = select("qf-camera", t("queue.f.camera"), (v) => change({ camera: v }));
  const rule = select("qf-rule", t("queue.f.rule"), (v) => change({ rule: v }));
  const category = select("qf-category", t("queue.f.category"), (v) => change({ category: v }));
  const time = (id, key) => h("input", { id, type: "datetime-local", "aria-label": t(`queue.f.${key}`),
    title: t(`queue.f.${key}`), value: f[key] ? toLocalInput(f[key]) : "",
    onchange: (ev) => change({ [key]: fromLocalInput(ev.target.value) }) });
  let timer = null;
  const search = h("input", { id: "qf-search", type: "search", value: f.q, autocomplete: "off",
    placeholder: t("queue.f.search"), "aria-label": t("queue.f.search"),
    oninput: (ev) => {
      clearTimeout(timer);
      timer = setTimeout(() => change({ q: ev.target.value }), 250);
    } });
  const group = h("button", { type: "button", class: "chip", id: "qf-group",
    "aria-pressed": String(f.group), onclick: (ev) => {
      ev.currentTarget.setAttribute("aria-pressed", String(!filters.group));
      setFilters({ group: !filters.group });
      onChange(false);
    } }, t("queue.f.group"));
  const reset = h("button", { type: "button", class: "btn btn-small btn-ghost", id: "qf-clear",
    onclick: () => {
      setFilters({ ...EMPTY, scope: filters.scope, group: filters.group });
      onChange(true, true);
    } }, t("queue.f.clear"));
  const el = h("div", { class: "queue-filters", role: "group", "aria-label": t("queue.f.label") },
    h("div", { class: "chips", role: "group", "aria-label": t("queue.f.level") }, levels),
    state, camera, rule, category, time("qf-since", "since"), time("qf-until", "until"),
    search, group, reset);
  function refresh() {
    cameraOptions(camera, filters.camera);
    options(rule, known("rule_id", [], filters.rule), t("queue.f.rule.any"), filters.rule);
    const cats = known("category", CATEGORIES, filters.category);
    if (category.dataset.sig !== cats.join("\u0001")) {
      category.dataset.sig = cats.join("\u0001");
      category.replaceChildren(h("option", { value: "" }, t("queue.f.category.any")),
        ...cats.map((c) => h("option", { value: c, selected: c === filters.category }, categoryName(c))));
    }
  }
  refresh();
  return { el, refresh, search };
}
