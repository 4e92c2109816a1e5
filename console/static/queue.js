// The alert queue: level 1 on top, newest first within a level, one fixed-height row per
// alert (so arriving alerts never make the rows jump in height), a preview of the selected
// alert beside it, and the keyboard: j/k move, Enter opens, s/d/f/c/x act.

import { ACTIONS, allowed, perform } from "./actions.js";
import { categoryName, clear, fmtDuration, fmtTime, h, levelName, setText, stateName, subjectOf } from "./dom.js";
import { snapshotFigure } from "./evidence.js";
import { t } from "./i18n.js";
import { getAlert, listAlerts, serverNow, slaOf, subscribe } from "./state.js";

let selectedId = null;
let filter = sessionStorage.getItem("vigil.queue.filter") === "all" ? "all" : "open";

export const getSelected = () => selectedId;
export function setSelected(id) {
  selectedId = id;
}

/** Neighbour of an alert in the queue order (detail view j/k). */
export function neighbour(id, step) {
  const list = listAlerts(filter);
  const i = list.findIndex((a) => a.alert_id === id);
  const next = list[Math.max(0, Math.min(list.length - 1, (i < 0 ? 0 : i + step)))];
  return next ? next.alert_id : null;
}

export function summaryOf(a) {
  return (document.documentElement.lang === "en" ? a.summary_en || a.summary_zh
    : a.summary_zh || a.summary_en) || "";
}

/** Text and tone of an alert's SLA cell: {label, time, tone: ok|soon|late|none}. */
export function slaText(a) {
  const sla = slaOf(a);
  if (!sla) return { label: "", time: t("sla.done"), tone: "none" };
  const left = sla.due - serverNow();
  const label = left < 0 ? t("sla.overdue") : t(`sla.${sla.kind}`);
  const soon = sla.kind === "sign" ? 10 : 300;
  return { label, time: fmtDuration(left > 0 ? Math.ceil(left) : left), tone: left < 0 ? "late" : left < soon ? "soon" : "ok" };
}

function rowFor(a) {
  const sla = slaText(a);
  const row = h("div", {
    role: "option", id: `qa-${a.alert_id}`, class: `qrow lv-${a.level} st-${a.state}`,
    "aria-selected": a.alert_id === selectedId ? "true" : "false",
    dataset: { alertId: a.alert_id, state: a.state, level: String(a.level) },
  },
  h("div", { class: "q-level" }, h("span", { class: `lvl lvl-${a.level}` }, levelName(a.level))),
  h("div", { class: "q-main" },
    h("div", { class: "q-top" },
      h("span", { class: "plate" }, subjectOf(a)),
      h("span", { class: "cat" }, categoryName(a.category)),
      a.review_only ? h("span", { class: "tag tag-review" }, t("review.only")) : null,
      a.escalations ? h("span", { class: "tag tag-late" }, "⟰") : null),
    h("div", { class: "q-summary" }, summaryOf(a))),
  h("div", { class: "q-where" },
    h("div", { class: "q-cam" }, a.camera_name || a.camera_id || "—"),
    h("div", { class: "q-time" }, fmtTime(a.raised_at))),
  h("div", { class: `q-sla sla-${sla.tone}` },
    h("span", { class: "sla-label" }, sla.label), h("span", { class: "sla-time" }, sla.time)),
  h("div", { class: "q-state" },
    h("span", { class: `state state-${a.state}` }, stateName(a.state)),
    h("div", { class: "q-claimed" }, a.claimed_by ? a.claimed_by : "")));
  if (a._fresh && serverNow() - a._fresh < 8) row.classList.add("fresh");
  return row;
}

/** The moves the alert's state allows now (the detail view shows all five). */
function actionButtons(a) {
  const moves = Object.entries(ACTIONS).filter(([name]) => allowed(name, a));
  return h("div", { class: "actions" }, moves.map(([name, spec], i) =>
    h("button", {
      type: "button", class: `btn act-${name}${i === 0 && name !== "dismiss" ? " btn-primary" : ""}`,
      "aria-keyshortcuts": spec.key.toUpperCase(), onclick: () => perform(name, a.alert_id),
    }, t(`act.${name}`), h("kbd", {}, spec.key.toUpperCase()))));
}

function previewBody(a) {
  const facts = [
    [t("detail.camera"), a.camera_name || a.camera_id],
    [t("detail.address"), a.address],
    [t("detail.raised"), fmtTime(a.raised_at)],
    [t("detail.holder"), a.claimed_by],
  ].filter(([, v]) => v);
  return [
    h("div", { class: "pv-head" },
      h("span", { class: `lvl lvl-${a.level}` }, levelName(a.level)),
      h("span", { class: "plate plate-xl" }, subjectOf(a)),
      h("span", { class: `state state-${a.state}` }, stateName(a.state))),
    h("p", { class: "pv-summary" }, summaryOf(a)),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
  ];
}

export function mount(root) {
  const list = h("div", { class: "queue-list", role: "listbox", tabindex: "0",
    "aria-label": t("queue.list") });
  const preview = h("aside", { class: "queue-preview", "aria-label": t("queue.preview") });
  const count = h("span", { class: "view-count", "aria-live": "polite" });
  const empty = h("div", { class: "queue-empty" });
  const seg = h("div", { class: "segmented", role: "radiogroup", "aria-label": t("queue.filter.label") },
    ["open", "all"].map((f) => h("button", {
      type: "button", role: "radio", "aria-checked": String(filter === f), dataset: { filter: f },
      onclick: () => setFilter(f),
    }, t(`queue.filter.${f}`))));
  root.append(
    h("div", { class: "view-head" }, h("h1", {}, t("queue.title")), count, seg,
      h("span", { class: "view-hint" }, t("queue.hint"))),
    h("div", { class: "queue-layout" }, h("div", { class: "queue-col" }, list, empty), preview));

  let previewId = null;
  let previewState = null;

  function setFilter(f) {
    filter = f;
    sessionStorage.setItem("vigil.queue.filter", f);
    seg.querySelectorAll("button").forEach((b) =>
      b.setAttribute("aria-checked", String(b.dataset.filter === f)));
    render();
  }

  function render() {
    const alerts = listAlerts(filter);
    if (!alerts.some((a) => a.alert_id === selectedId)) {
      selectedId = alerts.length ? alerts[0].alert_id : null;
    }
    reconcile(alerts);
    list.setAttribute("aria-activedescendant", selectedId ? `qa-${selectedId}` : "");
    setText(count, t("queue.count", { n: alerts.length }));
    setText(empty, alerts.length ? "" : t(filter === "open" ? "queue.empty" : "queue.empty.all"));
    empty.hidden = alerts.length > 0;
    renderPreview();
  }

  // Keyed update: unchanged rows keep their DOM node, so the browser's scroll anchoring
  // holds the rows the operator is reading still while others are inserted above.
  const rowCache = new Map(); // id -> {row, sig}
  function reconcile(alerts) {
    const keep = new Set();
    let cursor = list.firstChild;
    for (const a of alerts) {
      const sig = `${a.state}|${a.claimed_by}|${a.level}|${a.subject}|${a.escalations}|${a.summary_zh}|${a.camera_name}`;
      let entry = rowCache.get(a.alert_id);
      if (!entry || entry.sig !== sig) {
        const row = rowFor(a);
        if (entry) {
          if (entry.row === cursor) cursor = cursor.nextSibling;
          entry.row.remove();
        }
        entry = { row, sig };
        rowCache.set(a.alert_id, entry);
      }
      entry.row.setAttribute("aria-selected", a.alert_id === selectedId ? "true" : "false");
      keep.add(a.alert_id);
      if (entry.row !== cursor) list.insertBefore(entry.row, cursor);
      else cursor = cursor.nextSibling;
    }
    for (const [id, entry] of rowCache) {
      if (!keep.has(id)) {
        entry.row.remove();
        rowCache.delete(id);
      }
    }
  }

  function renderPreview() {
    const a = selectedId ? getAlert(selectedId) : null;
    if (!a) {
      previewId = null;
      preview.replaceChildren(h("div", { class: "media-empty pv-none" }, t("queue.nothing")));
      return;
    }
    if (previewId === a.alert_id && previewState === `${a.state}|${a.claimed_by}`) return;
    const keepFigure = previewId === a.alert_id && preview.querySelector("figure");
    const fig = keepFigure || snapshotFigure(a, { caption: false, cls: "pv-snap" });
    previewId = a.alert_id;
    previewState = `${a.state}|${a.claimed_by}`;
    preview.replaceChildren(fig, ...previewBody(a), actionButtons(a),
      h("button", { type: "button", class: "btn btn-wide", onclick: () => open(a.alert_id) },
        t("act.open"), h("kbd", {}, "Enter")));
  }

  function select(id, scroll = true) {
    if (!id || id === selectedId) return;
    const old = list.querySelector('[aria-selected="true"]');
    if (old) old.setAttribute("aria-selected", "false");
    selectedId = id;
    const row = document.getElementById(`qa-${id}`);
    if (row) {
      row.setAttribute("aria-selected", "true");
      if (scroll) row.scrollIntoView({ block: "nearest" });
    }
    list.setAttribute("aria-activedescendant", `qa-${id}`);
    renderPreview();
  }

  function open(id) {
    if (id) location.hash = `#/alert/${encodeURIComponent(id)}`;
  }

  list.addEventListener("click", (ev) => {
    const row = ev.target.closest(".qrow");
    if (row) select(row.dataset.alertId, false);
  });
  list.addEventListener("dblclick", (ev) => {
    const row = ev.target.closest(".qrow");
    if (row) open(row.dataset.alertId);
  });

  function tick() {
    for (const row of list.children) {
      const a = getAlert(row.dataset.alertId);
      if (!a) continue;
      const sla = slaText(a);
      const cell = row.querySelector(".q-sla");
      cell.className = `q-sla sla-${sla.tone}`;
      setText(cell.firstChild, sla.label);
      setText(cell.lastChild, sla.time);
      if (row.classList.contains("fresh") && serverNow() - (a._fresh || 0) >= 8) {
        row.classList.remove("fresh");
      }
    }
  }

  const unsubscribe = subscribe((change) => {
    if (change.type === "alert" || change.type === "reset") render();
  });
  const ticker = setInterval(tick, 1000);
  render();
  list.focus({ preventScroll: true });

  return {
    unmount() {
      unsubscribe();
      clearInterval(ticker);
      clear(root);
    },
    onKey(key) {
      const ids = [...list.children].map((r) => r.dataset.alertId);
      const i = ids.indexOf(selectedId);
      if (key === "j" || key === "ArrowDown") select(ids[Math.min(ids.length - 1, i + 1)]);
      else if (key === "k" || key === "ArrowUp") select(ids[Math.max(0, i - 1)]);
      else if (key === "Home") select(ids[0]);
      else if (key === "End") select(ids[ids.length - 1]);
      else if (key === "Enter") open(selectedId);
      else {
        const action = Object.keys(ACTIONS).find((n) => ACTIONS[n].key === key);
        if (!action) return false;
        if (selectedId) perform(action, selectedId);
        else perform(action, null);
      }
      return true;
    },
  };
}
