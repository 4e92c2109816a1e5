// @ts-check
// The REST client: the bearer token lives in sessionStorage (one browser tab = one
// session; closing the tab signs out). Every error becomes an ApiError with the HTTP status
// and the server's reason in the page's language, so a 409 can say who holds the alert.

import { errorMessage } from "./problems.js";

const TOKEN_KEY = "vigil.token";
const USER_KEY = "vigil.user";
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
  try {
    return JSON.parse(sessionStorage.getItem(USER_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveSession(tok, user) {
  sessionStorage.setItem(TOKEN_KEY, tok);
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

/** Called on any 401 (expired or revoked token): the app shows the login screen. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** The server's message from a FastAPI-style error body ({detail: "..."} or a list). */
export function errorText(body, fallback) {
  if (!body) return fallback;
  if (typeof body === "string") return body || fallback;
  const d = body.detail ?? body.message ?? body.error;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((x) => (typeof x === "string" ? x : x.msg || JSON.stringify(x))).join("; ");
  if (d && typeof d === "object") return d.message || d.msg || JSON.stringify(d);
  return fallback;
}

/**
 * @typedef {object} RequestOptions
 * @property {unknown} [json] sent as application/json
 * @property {BodyInit} [body] sent as it is (with `contentType`)
 * @property {string} [contentType]
 * @property {AbortSignal} [signal]
 */

/**
 * @param {string} method
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>} the parsed JSON (or text) body
 */
export async function request(method, path, { json, body, contentType, signal } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  let payload = body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, signal, cache: "no-store" });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, err.message || "network error", null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && path !== "/api/login") onUnauthorized();
    // the message in the page's language (problems.js); err.body keeps the server's answer
    throw new ApiError(res.status, errorMessage(res.status, data, errorText(data, `HTTP ${res.status}`)), data);
  }
  return data;
}

/** @type {(path: string, opts?: RequestOptions) => Promise<any>} */
export const get = (path, opts) => request("GET", path, opts);
/** @type {(path: string, json?: unknown) => Promise<any>} */
export const post = (path, json) => request("POST", path, { json: json ?? {} });

/**
 * Fetch an image (or clip) that needs the bearer token and return an object URL for an
 * <img>/<video> src. The caller revokes it (URL.revokeObjectURL) when replacing it.
 * @param {string} path
 * @param {AbortSignal} [signal]
 * @returns {Promise<string>}
 */
export async function blobUrl(path, signal) {
  /** @type {Record<string, string>} */
  const headers = {};
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  const res = await fetch(path, { headers, signal, cache: "no-store" });
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    // a refusal (e.g. the CSV export's bad pattern) keeps its reason, in the page's language
    const data = await res.json().catch(() => null);
    throw new ApiError(res.status, errorMessage(res.status, data, `HTTP ${res.status}`), data);
  }
  return URL.createObjectURL(await res.blob());
}
