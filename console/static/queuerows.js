// @ts-check
// Rows of the alert queue: one alert, or a folded group of repeats of one (rule, camera,
// subject) with its count. Pure builders: queue.js owns selection, marks and the keyboard.

import { categoryName, fmtDuration, fmtTime, h, levelName, stateName, subjectOf } from "./dom.js";
import { t } from "./i18n.js";
import { OPEN_STATES, serverNow, slaOf } from "./state.js";

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

const groupKey = (a) => `${a.rule_id}|${a.camera_id}|${a.subject}`;

/** A short, stable DOM id for a group key (keys hold any characters). */
export function domId(key) {
  let x = 2166136261;
  for (const ch of key) x = Math.imul(x ^ ch.codePointAt(0), 16777619) >>> 0;
  return `qg-${x.toString(36)}`;
}

/**
 * Queue entries: {id, members} in queue order. With grouping on, open alerts of one
 * (rule, camera, subject) share an entry placed where its most urgent, newest member is.
 */
export function entriesOf(list, group) {
  const out = [];
  const byKey = new Map();
  for (const a of list) {
    const key = group && OPEN_STATES.has(a.state) ? groupKey(a) : null;
    const g = key && byKey.get(key);
    if (g) g.members.push(a);
    else {
      const entry = { key, members: [a] };
      if (key) byKey.set(key, entry);
      out.push(entry);
    }
  }
  return out.map((e) => (e.members.length > 1 ? { ...e, id: `g:${e.key}` }
    : { key: null, id: e.members[0].alert_id, members: e.members }));
}

function pick(ids, marked) {
  const n = ids.filter((id) => marked.has(id)).length;
  const state = n === 0 ? "false" : n === ids.length ? "true" : "mixed";
  return h("button", { type: "button", class: "q-pick", role: "checkbox", tabindex: "-1",
    "aria-checked": state, "aria-label": t("queue.mark") });
}

export function rowFor(a, { selected, marked, member = false }) {
  const sla = slaText(a);
  const row = h("div", {
    role: "option", id: `qa-${a.alert_id}`, class: `qrow lv-${a.level} st-${a.state}${member ? " qmember" : ""}`,
    "aria-selected": a.alert_id === selected ? "true" : "false",
    dataset: { alertId: a.alert_id, rowId: a.alert_id, state: a.state, level: String(a.level) },
  },
  pick([a.alert_id], marked),
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

export function groupRowFor(g, { selected, marked, open }) {
  const lead = g.members[0];
  const newest = Math.max(...g.members.map((m) => m.raised_at));
  const states = {};
  g.members.forEach((m) => { states[m.state] = (states[m.state] || 0) + 1; });
  const sla = slaText(lead);
  return h("div", {
    role: "option", id: domId(g.key), class: `qrow qgroup lv-${lead.level} st-${lead.state}`,
    "aria-selected": g.id === selected ? "true" : "false", "aria-expanded": String(open),
    dataset: { rowId: g.id, leadId: lead.alert_id, group: g.key, count: String(g.members.length) },
  },
  pick(g.members.map((m) => m.alert_id), marked),
  h("div", { class: "q-level" }, h("span", { class: `lvl lvl-${lead.level}` }, levelName(lead.level))),
  h("div", { class: "q-main" },
    h("div", { class: "q-top" },
      h("span", { class: "plate" }, subjectOf(lead)),
      h("span", { class: "q-count", title: t("queue.group.of", { n: g.members.length }) }, `×${g.members.length}`),
      h("span", { class: "cat" }, categoryName(lead.category))),
    h("div", { class: "q-summary" }, `${open ? "▾" : "▸"} ${t("queue.repeats", { n: g.members.length })} · ${summaryOf(lead)}`)),
  h("div", { class: "q-where" },
    h("div", { class: "q-cam" }, lead.camera_name || lead.camera_id || "—"),
    h("div", { class: "q-time" }, fmtTime(newest))),
  h("div", { class: `q-sla sla-${sla.tone}` },
    h("span", { class: "sla-label" }, sla.label), h("span", { class: "sla-time" }, sla.time)),
  h("div", { class: "q-state" }, Object.entries(states).map(([s, n]) =>
    h("span", { class: `state state-${s}` }, `${stateName(s)} ${n}`))));
}

export function previewBody(a) {
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

export function memberList(g) {
  return h("div", { class: "pv-members" },
    h("h2", { class: "panel-sub" }, t("queue.group.of", { n: g.members.length })),
    h("ol", { class: "pv-member-list" }, g.members.map((m) => h("li", {},
      h("span", { class: "q-time" }, fmtTime(m.raised_at)), " ",
      h("span", { class: `state state-${m.state}` }, stateName(m.state)), " ",
      h("span", { class: "muted" }, m.claimed_by || "")))));
}

