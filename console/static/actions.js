// @ts-check
// The five operator moves on an alert (签收 / 处置 / 反馈 / 结案 / 排除), shared by the
// queue, the detail view and the keyboard; bulk sign and dismiss, reassign (改派) and
// handover (交班) at the end. The state table mirrors core/lifecycle.py so a
// button is only offered when the server would accept it; the server still decides, and a
// 409 (somebody else holds the alert) is shown with the server's words.

import { get, post } from "./api.js";
import { ask, askFeedback, askReason, toast } from "./dialogs.js";
import { h, stateName } from "./dom.js";
import { t, tOr } from "./i18n.js";
import { getAlert, upsertAlert } from "./state.js";

export const ACTIONS = {
  sign: { from: ["new"], key: "s" },
  dispose: { from: ["signed"], key: "d" },
  feedback: { from: ["disposing"], key: "f" },
  close: { from: ["feedback"], key: "c" },
  dismiss: { from: ["new", "signed", "disposing"], key: "x" },
};

export function allowed(action, alert) {
  return Boolean(alert && ACTIONS[action] && ACTIONS[action].from.includes(alert.state));
}

const busy = new Set();

/** Run an action on an alert id; asks for a note when needed. Returns the new alert or null. */
export async function perform(action, alertId) {
  const alert = getAlert(alertId);
  const what = t(`act.${action}`);
  if (!alert) {
    toast(t("act.none"), "warn");
    return null;
  }
  if (!allowed(action, alert)) {
    toast(t("act.notallowed", { what }), "warn");
    return null;
  }
  let body = {};
  if (action === "feedback") {
    const fb = await askFeedback();
    if (!fb) return null;
    body = fb;
  } else if (action === "dismiss") {
    const reason = await askReason(t("dismiss.title"), t("dismiss.reason"));
    if (!reason) return null;
    body = { reason };
  }
  const key = `${alertId}:${action}`;
  if (busy.has(key)) return null;
  busy.add(key);
  try {
    const res = await post(`/api/alerts/${encodeURIComponent(alertId)}/${action}`, body);
    const updated = res && typeof res === "object" && (res.alert_id || res.alert)
      ? (res.alert || res) : await get(`/api/alerts/${encodeURIComponent(alertId)}`);
    const stored = upsertAlert(updated.alert || updated);
    toast(t("act.done", { what }), "ok", 2500);
    return stored;
  } catch (err) {
    if (err.status === 409) {
      toast(t("act.conflict", { msg: err.message }), "error", 7000);
      refresh(alertId);
    } else {
      toast(t("act.failed", { msg: err.status ? err.message : t("err.network") }), "error", 7000);
    }
    return null;
  } finally {
    busy.delete(key);
  }
}

async function refresh(alertId) {
  try {
    const res = await get(`/api/alerts/${encodeURIComponent(alertId)}`);
    upsertAlert(res.alert || res);
  } catch {
    /* the live feed will catch up */
  }
}

// ---------- many alerts at once, and changing hands ----------

/** One reason per failed id, in the operator's words (the server's text is for the log). */
function whyFailed(r) {
  if (r.status === 404) return t("bulk.why.missing");
  if (r.claimed_by) return t("bulk.why.held", { who: r.claimed_by });
  return t("bulk.why.state", { state: stateName(r.state) });
}

/**
 * Sign or dismiss many alerts with one request (dismiss asks for one reason for all). Each
 * alert succeeds or fails on its own; the toast says how many went through and why the
 * others did not. Returns the server's answer, or null if cancelled or failed.
 */
export async function performBulk(action, alertIds) {
  const what = t(`act.${action}`);
  const ids = alertIds.filter((id) => allowed(action, getAlert(id)));
  if (!ids.length) {
    toast(t("bulk.none", { what }), "warn");
    return null;
  }
  const body = { action, ids };
  if (action === "dismiss") {
    const reason = await askReason(t("bulk.dismiss.title", { n: ids.length }), t("dismiss.reason"));
    if (!reason) return null;
    body.reason = reason;
  }
  try {
    const res = await post("/api/alerts/bulk", body);
    for (const r of res.results) {
      if (r.alert) upsertAlert(r.alert);
      else if (r.status === 409) refresh(r.alert_id);
    }
    const bad = res.results.filter((r) => r.status !== 200);
    if (!bad.length) toast(t("bulk.done", { what, n: res.done }), "ok", 3000);
    else {
      toast(t("bulk.partial", { what, n: res.done, m: res.failed,
        why: [...new Set(bad.map(whyFailed))].join("；") }), "warn", 9000);
    }
    return res;
  } catch (err) {
    toast(t("act.failed", { msg: err.status ? err.message : t("err.network") }), "error", 7000);
    return null;
  }
}

const REASSIGNABLE = ["signed", "disposing", "feedback"];
const TAKES_OVER = ["supervisor", "admin"];

/** May this user give the alert to someone else? (The holder, a supervisor, an admin.) */
export function canReassign(alert, user) {
  return Boolean(alert && user && REASSIGNABLE.includes(alert.state)
    && (alert.claimed_by === user.username || TAKES_OVER.includes(user.role)));
}

export const takesOver = (user) => Boolean(user && TAKES_OVER.includes(user.role));

function userSelect(id, people, except, first) {
  return h("select", { id, name: id, "aria-required": "true" },
    h("option", { value: "", selected: true, disabled: true }, first),
    people.filter((p) => p.username !== except).map((p) =>
      h("option", { value: p.username }, `${p.display_name || p.username} (${p.username} · ${tOr(`role.${p.role}`, p.role)})`)));
}

async function people() {
  try {
    return await get("/api/alerts/assignees");
  } catch (err) {
    toast(t("act.failed", { msg: err.status ? err.message : t("err.network") }), "error", 7000);
    return null;
  }
}

/** 改派: give one alert to another user (asks whom and why). */
export async function reassign(alertId) {
  const alert = getAlert(alertId);
  const list = alert && await people();
  if (!list) return null;
  const to = userSelect("ra-to", list, alert.claimed_by, t("reassign.choose"));
  const reason = h("textarea", { id: "ra-reason", name: "reason", rows: 2 });
  const answer = await ask(t("reassign.title"), [
    h("p", { class: "muted" }, t("reassign.holder", { who: alert.claimed_by || "—" })),
    h("label", { for: "ra-to" }, t("reassign.to")), to,
    h("label", { for: "ra-reason" }, t("reassign.reason")), reason,
  ], () => ({ to: to.value, reason: reason.value.trim() }), (v) => (v.to ? null : t("reassign.choose")));
  if (!answer) return null;
  try {
    const updated = upsertAlert(await post(`/api/alerts/${encodeURIComponent(alertId)}/reassign`, answer));
    toast(t("reassign.done", { who: answer.to }), "ok", 3000);
    return updated;
  } catch (err) {
    if (err.status === 409) refresh(alertId);
    toast(t("act.failed", { msg: err.status ? err.message : t("err.network") }), "error", 7000);
    return null;
  }
}

/** 交班: pass every unfinished alert the user (or, for a supervisor, anyone) holds on. */
export async function handover(user) {
  const list = await people();
  if (!list) return null;
  const to = userSelect("ho-to", list, null, t("reassign.choose"));
  const from = takesOver(user) ? userSelect("ho-from", list, null, t("handover.from")) : null;
  if (from) from.value = user.username;
  const reason = h("textarea", { id: "ho-reason", name: "reason", rows: 2 });
  const answer = await ask(t("handover.title"), [
    from ? [h("label", { for: "ho-from" }, t("handover.from")), from] : null,
    h("label", { for: "ho-to" }, t("reassign.to")), to,
    h("label", { for: "ho-reason" }, t("reassign.reason")), reason,
  ], () => ({ to: to.value, holder: from ? from.value : user.username, reason: reason.value.trim() }),
  (v) => (!v.to ? t("reassign.choose") : v.to === v.holder ? t("handover.same") : null));
  if (!answer) return null;
  try {
    const res = await post("/api/alerts/handover", answer);
    res.moved.forEach(refresh);
    if (!res.moved.length && !res.failed.length) toast(t("handover.none"), "info");
    else {
      toast(t(res.failed.length ? "handover.partial" : "handover.done",
        { n: res.moved.length, m: res.failed.length, who: res.to }), res.failed.length ? "warn" : "ok", 6000);
    }
    return res;
  } catch (err) {
    toast(t("act.failed", { msg: err.status ? err.message : t("err.network") }), "error", 7000);
    return null;
  }
}
