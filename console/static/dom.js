// @ts-check
// Small DOM and formatting helpers. Data from the server only ever reaches the page as
// text nodes or attribute values (never innerHTML), so a plate or an address cannot inject.

import { locale, t, tOr } from "./i18n.js";

/**
 * A child of h()/svg(): a node, text, or a (nested) list of them; null, undefined and
 * false are skipped.
 * @typedef {Node | string | number | boolean | null | undefined | any[]} Child
 */

/**
 * h("div", {class: "x", onclick: fn, "aria-label": "y"}, child, "text", [more])
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...Child} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * @param {HTMLElement | SVGElement} el
 * @param {Record<string, any> | null | undefined} attrs
 */
function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "style") {
      el.style.cssText = String(value); // CSSOM, allowed under a strict style-src CSP
    } else if (key === "text") {
      el.textContent = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/**
 * @param {Element} el
 * @param {Child[]} children
 */
function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * @template {Node} T
 * @param {T} el
 * @returns {T}
 */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/**
 * @param {Node | null | undefined} el
 * @param {string} text
 */
export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

const pad = (n) => String(n).padStart(2, "0");

/**
 * HH:MM:SS in the browser's time zone (the monitoring centre's clock).
 * @param {number | null | undefined} epoch seconds
 * @returns {string}
 */
export function fmtTime(epoch) {
  if (epoch === null || epoch === undefined) return "—";
  const d = new Date(epoch * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * @param {number | null | undefined} epoch seconds
 * @returns {string}
 */
export function fmtDateTime(epoch) {
  if (epoch === null || epoch === undefined) return "—";
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtTime(epoch)}`;
}

/**
 * A countdown such as 0:27, 12:04 or 1:02:03 (absolute value; the caller shows the sign).
 * @param {number} seconds
 * @returns {string}
 */
export function fmtDuration(seconds) {
  const s = Math.max(0, Math.floor(Math.abs(seconds)));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return hh > 0 ? `${hh}:${pad(mm)}:${pad(ss)}` : `${mm}:${pad(ss)}`;
}

export function fmtNumber(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  return Number(n).toLocaleString(locale(), { maximumFractionDigits: digits,
    minimumFractionDigits: digits });
}

export function fmtCoord(lon, lat) {
  if (lon === null || lon === undefined || lat === null || lat === undefined) return "—";
  return `${Number(lon).toFixed(5)}, ${Number(lat).toFixed(5)}`;
}

/**
 * <input type=datetime-local> value ↔ epoch seconds, in local time.
 * @param {number} epoch seconds
 * @returns {string}
 */
export function toLocalInput(epoch) {
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * @param {string} value
 * @returns {number | null} epoch seconds, or null when empty or not a date
 */
export function fromLocalInput(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms / 1000;
}

export const levelName = (level) => tOr(`level.${level}`, `L${level}`);
export const stateName = (state) => tOr(`state.${state}`, state || t("unknown"));
export const categoryName = (cat) => tOr(`cat.${cat}`, cat || "");

/** An alert's title: the plate for a vehicle; for a scene event its zone or line (the
 * rule engine's subject "zone:kind" reads like code, and the kind is shown beside it); for
 * a camera fault the camera's name (its subject is the 20-digit GB/T 28181 id). */
export function subjectOf(a) {
  const o = a.observation || {};
  if (o.type === "event" && o.zone) return o.zone;
  if (o.type === "camera_status") return a.camera_name || a.subject || a.camera_id || "—";
  return a.subject || categoryName(a.category) || "—";
}

export const nowSec = () => Date.now() / 1000;

/**
 * Move keyboard focus without scrolling the page around (no layout jump).
 * @param {HTMLElement | SVGElement | null | undefined} el
 */
export function focusQuietly(el) {
  if (el) el.focus({ preventScroll: true });
}
