// @ts-check
// Server errors in the operator's language. The API speaks English on purpose — its words
// also go to logs, integrations and `curl` — so the page translates what it can meet:
// FastAPI/pydantic's validation messages, Vigil's own field problems (watchlists, users,
// alert moves) and the refusals (409, 403, 404 ...). Each known message is a pattern with
// the values it carries; a message nobody listed is shown as the server wrote it (better
// an English sentence than a lost reason), with its field label still translated.

import { t, tOr } from "./i18n.js";

/** [pattern, dictionary key, names of the captured groups]. First match wins. */
/** @type {Array<[RegExp, string, string[]]>} pattern, message key, names of its groups */
const MESSAGES = [
  [/^Field required$/, "err.required", []],
  [/^String should have at least (\d+) characters?$/, "err.min_length", ["n"]],
  [/^String should have at most (\d+) characters?$/, "err.max_length", ["n"]],
  [/^String should match pattern/, "err.pattern", []],
  [/^Input should be greater than or equal to (\S+)$/, "err.ge", ["n"]],
  [/^Input should be less than or equal to (\S+)$/, "err.le", ["n"]],
  [/^Input should be greater than (\S+)$/, "err.gt", ["n"]],
  [/^Input should be less than (\S+)$/, "err.lt", ["n"]],
  [/^Input should be a valid integer/, "err.int", []],
  [/^Input should be a valid number/, "err.number", []],
  [/^Input should be a valid boolean/, "err.bool", []],
  [/^Input should be a valid string/, "err.string", []],
  [/^Input should be (?:a valid list|a valid array)/, "err.list", []],
  [/^Input should be (('[^']*'(?:, | or )?)+)$/, "err.enum", ["options"]],
  [/^Extra inputs are not permitted$/, "err.extra", []],
  [/^List should have at most (\d+) items?/, "err.max_items", ["n"]],
  [/^List should have at least (\d+) items?/, "err.min_items", ["n"]],
  [/^JSON decode error|^Invalid JSON/, "err.json", []],
  // alerts/watchlist.py, alerts/watchlist_io.py, alerts/watchlist_service.py
  [/^empty; write the plate/, "err.wl.plate_empty", []],
  [/^(\S+) is not a valid plate \(GA 36 formats\); did you mean (\S+)\?/, "err.wl.plate_hint", ["plate", "fixed"]],
  [/^(\S+) is not a valid plate \(GA 36 formats\)/, "err.wl.plate", ["plate"]],
  [/^'?([^']*?)'? is not a level; use 1/, "err.level", ["value"]],
  [/^a deploy needs a reason/, "err.wl.reason", []],
  [/^a deploy needs an applicant/, "err.wl.applicant", []],
  [/^ends before it begins/, "err.wl.order", []],
  [/^is already past; nothing would ever match/, "err.wl.past", []],
  [/^'([^']*)' is not camera:ID, group:NAME or area:CODE/, "err.wl.scope", ["value"]],
  [/^area '([^']*)' must be a GB\/T 2260 code/, "err.wl.area", ["value"]],
  [/^'([^']*)' is not a time; write ISO 8601/, "err.time", ["value"]],
  [/^'([^']*)' is not a category; use one of/, "err.wl.category", ["value"]],
  [/^'([^']*)' is not a strictness/, "err.wl.strictness", ["value"]],
  [/^must be you \(([^)]*)\): the applicant is whoever deploys/, "err.wl.applicant_self", ["who"]],
  [/^level (\d) entries always need a second person's approval/, "err.wl.needs_approval", ["level"]],
  [/^say who approves/, "err.wl.approver", []],
  [/^(.+) applied for this entry; another person must approve it/, "err.wl.own_approval", ["who"]],
  [/^say who withdraws/, "err.wl.withdrawer", []],
  [/^a withdrawal needs a reason/, "err.wl.withdraw_reason", []],
  [/^(\S+) is used twice/, "err.wl.duplicate", ["value"]],
  // console/users.py
  [/^1-64 letters, digits, '_', '\.', '@' or '-'$/, "err.user.name", []],
  [/^(\d+) to (\d+) characters$/, "err.user.password", ["min", "max"]],
  [/^one of \[?([^\]]*)\]?$/, "err.enum", ["options"]],
  [/^'([^']*)' already exists$/, "err.user.exists", ["value"]],
  [/^is already past; a token must expire later/, "err.token.past", []],
  [/^an integration token needs a role/, "err.token.role", []],
  [/^a user's token acts with the user's role/, "err.token.userrole", []],
  // console/routes_search.py, core/store/plate_search.py (vehicle search)
  [/^the pattern is empty/, "err.ps.empty", []],
  [/^the pattern is (\d+) characters long; at most (\d+)/, "err.ps.long", ["n", "max"]],
  [/^the pattern may hold letters, .*; not (.+)$/, "err.ps.chars", ["chars"]],
  [/^not a cursor from a previous page/, "err.ps.cursor", []],
  [/^no configured camera is in group '([^']*)'/, "err.ps.group", ["group"]],
  [/^the end of the time range must be after its start/, "search.badrange", []],
  // console/alert_moves.py, console/routes_alerts.py, console/schemas_alerts.py
  [/^no enabled console user '([^']*)'/, "err.to.unknown", ["who"]],
  [/^the alerts' holder already/, "err.to.same", []],
  [/^dismiss needs a reason/, "dismiss.required", []],
  [/^ids must not repeat/, "err.ids.repeat", []],
  // refusals that are not 422
  [/^needs role (\w+) \(you are (\w+)\)/, "err.role", ["need", "have"]],
  [/^temporarily unavailable/, "err.busy", []],
  [/^too many failed logins|^login locked/i, "login.throttled", []],
];

const VALUE_ERROR = /^(?:Value error|Assertion failed), /;

/** A field's label, from its `loc` (["body", "valid_until"] → 截止时间). */
export function fieldLabel(loc) {
  const parts = (Array.isArray(loc) ? loc : [loc]).filter((p) => p !== "body" && p !== "query"
    && p !== "path" && typeof p === "string" && p !== "");
  const name = parts[parts.length - 1];
  return name ? tOr(`field.${name}`, name) : "";
}

/** "'monitor', 'dispatcher' or 'admin'" → 监控员、调度员、管理员 (codes we have words for). */
function optionsText(list) {
  return list.replace(/'/g, "").split(/, | or /).map((o) => o.trim()).filter(Boolean)
    .map((o) => tOr(`role.${o}`, tOr(`cat.${o}`, tOr(`state.${o}`, o)))).join(", ");
}

function translated(text) {
  const msg = String(text ?? "").replace(VALUE_ERROR, "").trim();
  for (const [pattern, key, names] of MESSAGES) {
    const m = pattern.exec(msg);
    if (!m) continue;
    const vars = {};
    names.forEach((name, i) => { vars[name] = m[i + 1]; });
    if (key === "err.enum") vars.options = optionsText(vars.options);
    if (vars.have) vars.have = tOr(`role.${vars.have}`, vars.have);
    if (vars.need) vars.need = tOr(`role.${vars.need}`, vars.need);
    return t(key, vars);
  }
  return msg;
}

/** A server message (one problem's `msg`, a refusal's detail) in the page's language;
 * for views that add their own heading, such as the vehicle search's bad pattern. */
export const messageText = (text) => translated(text);

/** One problem of a 422 ({loc, msg}) as a line: "号牌：不是有效号牌 …". */
export function problemText(item) {
  if (typeof item === "string") return lineText(item);
  const label = fieldLabel(item.loc);
  const msg = translated(item.msg ?? item.message ?? "");
  return label ? t("err.field", { field: label, msg }) : msg;
}

/** An import line "console-import:3: level: 'nine' is not a level …" with its parts translated. */
export function lineText(line) {
  const m = /^(.*?:\d+): ([\w.]+): (.*)$/.exec(line) || /^()([\w.]+): (.*)$/.exec(line);
  if (!m) return translated(line);
  const [, where, field, why] = m;
  const text = t("err.field", { field: fieldLabel(field.split(".")), msg: translated(why) });
  return where ? `${where}: ${text}` : text; // "console-import:3: 级别：…" (source:row kept)
}

/** Every problem of an error body, one line each (a 422's detail or lines; else its message). */
export function problemLines(body) {
  if (body && Array.isArray(body.lines) && body.lines.length) return body.lines.map(lineText);
  const d = body && typeof body === "object" ? body.detail : body;
  if (Array.isArray(d)) return d.map(problemText);
  if (typeof d === "string") return [translated(d)];
  return [];
}

/** A refused move ("alert X: expected new, got signed by alice"): who has it, in words. */
function conflictText(body, msg) {
  if (body.claimed_by) {
    return t("err.conflict.held", { who: body.claimed_by, state: tOr(`state.${body.state}`, body.state || "") });
  }
  if (body.state) return t("err.conflict.state", { state: tOr(`state.${body.state}`, body.state) });
  const m = /: expected (.+), got (\S+)/.exec(msg);
  if (!m) return translated(msg);
  const got = m[2];
  return t("err.conflict.state", { state: tOr(`wl.st.${got}`, tOr(`state.${got}`, got)) });
}

/**
 * The message an ApiError carries: the server's reason in the page's language. `status`
 * picks the reading (409: who holds it; 404: not found); the body keeps the raw answer.
 */
export function errorMessage(status, body, fallback) {
  if (status === 409 && body && typeof body === "object" && typeof body.detail === "string") {
    return conflictText(body, body.detail);
  }
  if (status === 404) return t("err.notfound");
  if (status === 413) return t("err.too_large");
  if (status === 429) return t("login.throttled");
  const lines = problemLines(body);
  if (lines.length) return lines.join("；");
  if (status >= 500) return t("err.server", { status });
  return typeof body === "string" && body ? body : fallback;
}
