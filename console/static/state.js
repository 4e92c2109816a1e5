// @ts-check
// What the page knows: alerts by id and cameras by id, fed by the REST API at start and
// by the live feed afterwards. Views subscribe and re-render the parts that changed.
// Keyed maps make "shown exactly once" structural: an alert seen twice is one row.

import { nowSec } from "./dom.js";

export const OPEN_STATES = new Set(["new", "signed", "disposing", "feedback"]);
const SIGN_SLA = 30; // seconds, docs/integration.md §5 (used when the server sends no deadline)
const FEEDBACK_SLA = 30 * 60;
const KEEP = 3000; // alerts held in the page; beyond this the oldest finished ones are let go

const alerts = new Map();
const cameras = new Map();
const listeners = new Set();
let clockOffset = 0; // server time minus browser time, seconds

/** Server "now": SLA countdowns use the server's clock, not a drifting workstation. */
export const serverNow = () => nowSec() + clockOffset;

export function setServerTime(epoch) {
  if (typeof epoch === "number" && epoch > 1e9) clockOffset = epoch - nowSec();
}

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(change) {
  listeners.forEach((fn) => fn(change));
}

/** The alert id, whatever the server calls it. */
const idOf = (a) => a.alert_id ?? a.id;

export function upsertAlert(raw, { fresh = false } = {}) {
  const id = idOf(raw);
  if (!id) return null;
  const old = alerts.get(id);
  const merged = { ...(old || {}), ...raw, alert_id: id };
  if (old && old._fresh) merged._fresh = old._fresh;
  if (fresh && !old) merged._fresh = serverNow();
  alerts.set(id, merged);
  if (!old && alerts.size > KEEP) prune();
  emit({ type: "alert", id, added: !old });
  return merged;
}

/**
 * Merge a REST list. With preferExisting (the first load, racing the live feed) an alert
 * the feed already delivered keeps the feed's newer copy.
 */
export function setAlerts(list, { preferExisting = false } = {}) {
  for (const a of list) {
    const id = idOf(a);
    if (!id) continue;
    const old = alerts.get(id);
    if (old && preferExisting) continue;
    alerts.set(id, { ...(old || {}), ...a, alert_id: id });
  }
  emit({ type: "reset" });
}

/** A whole shift can bring thousands of alerts: forget the oldest closed/dismissed ones. */
function prune() {
  const done = [...alerts.values()].filter((a) => !OPEN_STATES.has(a.state))
    .sort((a, b) => a.raised_at - b.raised_at);
  for (const a of done.slice(0, Math.max(0, alerts.size - KEEP))) alerts.delete(a.alert_id);
}

export function getAlert(id) {
  return alerts.get(id) || null;
}

/**
 * A transition / escalation / dispatch event: data is {alert, transition}, the alert as it
 * is after the event. Returns the stored alert (null if the event named none).
 */
export function applyAlertEvent(kind, data) {
  if (!data || !data.alert || typeof data.alert !== "object") return null;
  const id = idOf(data.alert);
  const old = alerts.get(id);
  const next = { ...(old || {}), ...data.alert, alert_id: id };
  if (kind === "escalation") next.escalations = ((old && old.escalations) || 0) + 1;
  alerts.set(id, next);
  emit({ type: "alert", id, added: !old, kind });
  return next;
}

export function isOpen(a) {
  return OPEN_STATES.has(a.state);
}

/** Level 1 on top, then newest first; ties broken by id for a stable order. */
export function compareAlerts(a, b) {
  return (a.level - b.level) || (b.raised_at - a.raised_at) || String(idOf(a)).localeCompare(String(idOf(b)));
}

export function listAlerts(filter = "open") {
  const list = [...alerts.values()].filter((a) => filter === "all" || isOpen(a));
  return list.sort(compareAlerts);
}

/**
 * The deadline that matters now: sign-for while new, feedback while signed/disposing.
 * Returns {kind: "sign"|"feedback", due} or null when no clock runs.
 */
export function slaOf(a) {
  const sla = a.sla || {};
  if (a.state === "new") {
    return { kind: "sign", due: sla.sign_due_at ?? a.raised_at + SIGN_SLA };
  }
  if (a.state === "signed" || a.state === "disposing") {
    const signed = a.timestamps && a.timestamps.signed_at;
    return { kind: "feedback", due: sla.feedback_due_at ?? (signed || a.raised_at) + FEEDBACK_SLA };
  }
  return null;
}

/** Cameras with an alert nobody has signed for yet (map flashing). No time limit: an
 * unsigned alert is exactly what must not fade from the map while it waits. */
export function alertingCameras() {
  const ids = new Set();
  for (const a of alerts.values()) {
    if (a.state === "new" && a.camera_id) ids.add(a.camera_id);
  }
  return ids;
}

export function recentAlertsFor(cameraId, n = 5) {
  return [...alerts.values()].filter((a) => a.camera_id === cameraId)
    .sort((a, b) => b.raised_at - a.raised_at).slice(0, n);
}

// ---- cameras ----

export function setCameras(list) {
  cameras.clear();
  for (const c of list) cameras.set(c.id, c);
  emit({ type: "cameras" });
}

/** A camera event carries the whole camera or just its status (camera_id, state ...). */
export function updateCamera(data) {
  const id = data.id ?? data.camera_id;
  if (!id) return;
  const old = cameras.get(id) || { id, name: id };
  const next = { ...old, ...data, id };
  delete next.camera_id;
  cameras.set(id, next);
  emit({ type: "camera", id });
}

export function listCameras() {
  return [...cameras.values()];
}

export function getCamera(id) {
  return cameras.get(id) || null;
}

/** One of streaming, stalled, offline, tamper, degraded, connecting, disabled. */
export function cameraBadge(c) {
  const health = c.health || "unknown";
  if (c.state === "disabled" || c.enabled === false) return "disabled";
  if (c.state === "streaming") {
    if (health === "frozen" || health === "black" || health === "blank") return "tamper";
    if (health === "degraded") return "degraded";
    return "streaming";
  }
  if (c.state === "stalled") return "stalled";
  if (c.state === "connecting") return "connecting";
  return "offline";
}

export function clearAll() {
  alerts.clear();
  cameras.clear();
  emit({ type: "reset" });
}
