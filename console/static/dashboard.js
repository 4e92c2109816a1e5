// @ts-check
// Today at a glance: alerts by level and by state, SLA compliance, camera health.
// Refreshed every 10 s while shown, and soon after any alert event.

import { get } from "./api.js";
import { clear, fmtDuration, fmtNumber, fmtTime, h, levelName, nowSec, stateName } from "./dom.js";
import { t, tOr } from "./i18n.js";
import { subscribe } from "./state.js";

const STATES = ["new", "signed", "disposing", "feedback", "closed", "dismissed"];
const CAM_STATES = ["streaming", "stalled", "backoff", "connecting", "stopped", "disabled"];

function bars(title, entries, cls) {
  const max = Math.max(1, ...entries.map(([, , n]) => n));
  return h("section", { class: "panel" }, h("h2", { class: "panel-title" }, title),
    h("ul", { class: "bars" }, entries.map(([key, label, n]) => h("li", { class: `bar ${cls}-${key}` },
      h("span", { class: "bar-label" }, label),
      h("span", { class: "bar-track", "aria-hidden": "true" },
        h("span", { class: "bar-fill", style: `width:${(100 * n) / max}%` })),
      h("span", { class: "bar-value" }, fmtNumber(n))))));
}

/** One SLA figure: share = met / due (null when nothing was due yet). */
function gauge(label, x) {
  const share = x && typeof x.share === "number" ? x.share : null;
  const pct = share === null ? "—" : `${fmtNumber(share * 100, 1)}%`;
  const tone = share === null ? "none" : share >= 0.95 ? "ok" : share >= 0.8 ? "soon" : "late";
  const detail = x ? `${fmtNumber(x.met)} / ${fmtNumber(x.due)} · ≤ ${fmtDuration(x.due_s)}` : "";
  return h("div", { class: `stat stat-${tone}` }, h("div", { class: "stat-value" }, pct),
    h("div", { class: "stat-label" }, label), h("div", { class: "muted stat-detail" }, detail));
}

function render(body, s) {
  const alerts = s.alerts || {};
  const byLevel = alerts.by_level || {};
  const byState = alerts.by_state || {};
  const sla = s.sla || {};
  const cams = s.cameras || {};
  const camStates = [...CAM_STATES, ...Object.keys(cams).filter((k) => !CAM_STATES.includes(k))];
  const camTotal = Object.values(cams).reduce((a, b) => a + b, 0);
  body.replaceChildren(
    h("div", { class: "stats-row" },
      h("div", { class: "stat" }, h("div", { class: "stat-value", id: "dash-total" }, fmtNumber(alerts.total ?? 0)),
        h("div", { class: "stat-label" }, t("dash.total")),
        h("div", { class: "muted stat-detail" }, `${stateName("new")} ${fmtNumber(byState.new || 0)}`)),
      gauge(t("dash.sla.sign"), sla.sign),
      gauge(t("dash.sla.feedback"), sla.feedback),
      h("div", { class: "stat" }, h("div", { class: "stat-value" }, fmtNumber(cams.streaming || 0),
        h("span", { class: "stat-of" }, ` / ${fmtNumber(camTotal)}`)),
      h("div", { class: "stat-label" }, t("dash.cameras.online")))),
    h("div", { class: "dash-grid" },
      bars(t("dash.bylevel"), [1, 2, 3, 4].map((l) => [l, levelName(l), byLevel[l] || 0]), "lv"),
      bars(t("dash.bystate"), STATES.map((st) => [st, stateName(st), byState[st] || 0]), "st"),
      bars(t("dash.cameras"), camStates.map((st) => [st, tOr(`camstate.${st}`, st), cams[st] || 0]), "cs")),
    h("p", { class: "muted" }, t("dash.updated", { t: fmtTime(s.now ?? nowSec()) })));
}

export function mount(root) {
  const body = h("div", { class: "dashboard" }, h("p", { class: "muted" }, t("detail.loading")));
  root.append(h("div", { class: "view-head" }, h("h1", {}, t("dash.title"))), body);
  let alive = true;
  let soon = null;
  async function load() {
    try {
      const s = await get("/api/stats");
      if (alive) render(body, s);
    } catch (err) {
      if (alive) body.replaceChildren(h("p", { class: "notice" }, t("act.failed", { msg: err.message })));
    }
  }
  const unsubscribe = subscribe((change) => {
    if (change.type !== "alert") return;
    clearTimeout(soon);
    soon = setTimeout(load, 1500);
  });
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, 10000);
  load();
  return {
    unmount() {
      alive = false;
      unsubscribe();
      clearInterval(timer);
      clearTimeout(soon);
      clear(root);
    },
    onKey() {
      return false;
    },
  };
}
