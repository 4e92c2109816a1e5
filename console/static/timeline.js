// @ts-check
// An alert's timeline in the operator's language. The store keeps each entry's note as the
// server wrote it (English machine phrases such as "sign escalation 1/2 (60 s)", a
// feedback "not_found: …", a 110 status "110 accepted 已接警"), because the note is also
// the audit trail and the API's answer. The page reads the structured parts — the
// entry's kind, its detail, the fixed shape of SLA notes (alerts/sla.py) — and words them
// from the dictionary; what a person typed (a note, a reason) is shown as typed.

import { h, stateName } from "./dom.js";
import { t, tOr } from "./i18n.js";

/** 30 → "30 秒", 1800 → "30 分钟", 5400 → "1 小时 30 分钟". */
export function fmtSpan(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60 || s % 60) return t("time.s", { n: s });
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (!hours) return t("time.min", { n: minutes });
  return minutes ? `${t("time.h", { n: hours })} ${t("time.min", { n: minutes })}` : t("time.h", { n: hours });
}

const OVERDUE = /^(sign|feedback) overdue \(([\d.]+) s\)$/;
const STAGE = /^(sign|feedback) escalation (\d+)\/(\d+) \(([\d.]+) s\)$/;

/** "sign overdue (30 s)" → 签收超时（30 秒）; an unknown shape is shown as stored. */
export function escalationText(note) {
  let m = OVERDUE.exec(note || "");
  if (m) return t("tl.esc.overdue", { timer: t(`sla.${m[1]}`), after: fmtSpan(m[2]) });
  m = STAGE.exec(note || "");
  if (m) return t("tl.esc.stage", { timer: t(`sla.${m[1]}`), i: m[2], n: m[3], after: fmtSpan(m[4]) });
  return note || "";
}

/** Who made an entry: people by name; the machine actors (sla, rule:…, dispatch:…) in words. */
export function actorText(by) {
  const who = String(by || "");
  if (who === "sla") return t("tl.by.sla");
  if (who.startsWith("rule:")) return t("tl.by.rule", { rule: who.slice(5) });
  if (who.startsWith("dispatch:")) return t("tl.by.dispatch", { target: who.slice(9) });
  if (who === "110" || who.startsWith("110:")) return who.length > 4 ? `110 · ${who.slice(4)}` : "110";
  return who;
}

/** A 110 entry: a status callback from the command centre, or one delivery attempt. */
function dispatchText(e) {
  const d = e.detail || {};
  if (d.source === "callback" && d.status) {
    const head = tOr(`dsp.cb.${d.status}`, d.status) + (d.dispatch_id ? ` #${d.dispatch_id}` : "");
    return [head, d.note].filter(Boolean).join("：");
  }
  if (d.source === "delivery" && d.outcome) {
    const vars = { target: d.target || "110", attempt: d.attempt ?? "", error: d.error || "" };
    return t(`tl.dsp.${d.outcome}`, vars);
  }
  return e.note || "";
}

/** A feedback note as core/lifecycle.py writes it: "result" or "result: note". */
const FEEDBACK_NOTE = /^(caught|not_found|handed_over|false_alarm|other)(?:: ([\s\S]*))?$/;

/** The two lines of one entry: what happened, and who · result · note. */
export function entryLines(e, summary) {
  const kind = e.kind || "transition";
  const d = e.detail || {};
  if (kind === "raised") return { what: t("tl.raised"), rest: [actorText(e.by), summary] };
  if (kind === "escalation") return { what: t("tl.escalation"), rest: [actorText(e.by), escalationText(e.note)] };
  if (kind === "dispatch") return { what: t("tl.dispatch"), rest: [actorText(e.by), dispatchText(e)] };
  if (kind === "transition") {
    const what = `${stateName(e.from_state)} → ${stateName(e.to_state)}`;
    if (d.result) return { what, rest: [e.by, tOr(`fb.r.${d.result}`, d.result), d.note] };
    const fb = e.to_state === "feedback" ? FEEDBACK_NOTE.exec(e.note || "") : null; // no detail
    if (fb) return { what, rest: [e.by, t(`fb.r.${fb[1]}`), fb[2]] };
    return { what, rest: [e.by, e.note] };
  }
  return { what: tOr(`tl.${kind}`, kind), rest: [e.by, e.note] }; // reassign, handover
}

/** The timeline as an ordered list (newest last, as it happened). */
export function timelineList(entries, summary, fmtTime) {
  return h("ol", { class: "timeline" }, entries.map((e) => {
    const { what, rest } = entryLines(e, summary);
    return h("li", { class: `tl-item tl-${e.kind || "transition"}` },
      h("time", { class: "tl-time" }, fmtTime(e.at)),
      h("div", { class: "tl-body" },
        h("div", { class: "tl-what" }, what),
        h("div", { class: "tl-who" }, rest.filter(Boolean).join(" · "))));
  }));
}
