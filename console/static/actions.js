// The five operator moves on an alert (签收 / 处置 / 反馈 / 结案 / 排除), shared by the
// queue, the detail view and the keyboard. The state table mirrors core/lifecycle.py so a
// button is only offered when the server would accept it; the server still decides, and a
// 409 (somebody else holds the alert) is shown with the server's words.

import { get, post } from "./api.js";
import { askFeedback, askReason, toast } from "./dialogs.js";
import { t } from "./i18n.js";
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
