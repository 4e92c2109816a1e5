// @ts-check
// Evidence pictures: the snapshot with the detection box, the plate crop, the clip.
//
// Same-origin evidence is fetched with the bearer token and shown through an object URL
// (an <img> cannot send headers); absolute URLs on another host are used as they are.
// When the server says the snapshot has no box burnt in, the box is drawn on a canvas laid
// over the picture, scaled to how the picture is letterboxed (object-fit: contain).

import { blobUrl } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

const cache = new Map(); // url -> Promise<objectURL>
const CACHE_MAX = 60;

/** The evidence of an alert in one shape, whatever spelling the server used. */
export function evidenceOf(alert) {
  const ev = alert.evidence || {};
  const obs = alert.observation || {};
  const oev = obs.evidence || {};
  const box = ev.box || oev.box || null;
  return {
    snapshot: ev.snapshot_url || ev.snapshot || null,
    plate: ev.plate_url || ev.plate_crop_url || ev.plate || ev.plate_crop || null,
    clip: ev.clip_url || ev.clip || null,
    box: Array.isArray(box) && box.length === 4 ? box.map(Number) : null,
    boxed: Boolean(ev.snapshot_boxed ?? ev.boxed ?? ev.box_drawn ?? false),
  };
}

function sameOrigin(url) {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/** A src usable by <img>/<video> for this evidence URL (cached object URLs). */
export function evidenceSrc(url) {
  if (!url) return Promise.reject(new Error("no url"));
  if (!sameOrigin(url)) return Promise.resolve(url);
  let p = cache.get(url);
  if (!p) {
    p = blobUrl(url);
    p.catch(() => cache.delete(url));
    cache.set(url, p);
    if (cache.size > CACHE_MAX) {
      const [oldUrl, oldP] = cache.entries().next().value;
      cache.delete(oldUrl);
      oldP.then((u) => URL.revokeObjectURL(u), () => {});
    }
  }
  return p;
}

function placeholder(text) {
  return h("div", { class: "media-empty" }, text);
}

/** A figure with the snapshot and (if needed) the box drawn over it. */
export function snapshotFigure(alert, { caption = true, cls = "" } = {}) {
  const ev = evidenceOf(alert);
  const frame = h("div", { class: `media-frame ${cls}` });
  const fig = h("figure", { class: "media" }, frame,
    caption ? h("figcaption", {}, t("detail.snapshot")) : null);
  if (!ev.snapshot) {
    frame.append(placeholder(t("detail.noimage")));
    return fig;
  }
  const img = h("img", { alt: `${t("detail.snapshot")} ${alert.subject || ""}`.trim(),
    decoding: "async" });
  frame.append(img);
  evidenceSrc(ev.snapshot).then((src) => {
    img.src = src;
  }, () => frame.replaceChildren(placeholder(t("detail.noimage"))));
  if (ev.box && !ev.boxed) {
    const canvas = h("canvas", { class: "media-overlay", "aria-hidden": "true" });
    frame.append(canvas);
    const draw = () => drawBox(canvas, img, ev.box, alert.level);
    img.addEventListener("load", draw);
    new ResizeObserver(draw).observe(frame);
  }
  return fig;
}

const LEVEL_STROKE = { 1: "#ff5c5c", 2: "#ffa94d", 3: "#ffd43b", 4: "#74c0fc" };

function drawBox(canvas, img, box, level) {
  const w = canvas.clientWidth;
  const hgt = canvas.clientHeight;
  if (!img.naturalWidth || !w || !hgt) return;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(hgt * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  const scale = Math.min(w / img.naturalWidth, hgt / img.naturalHeight);
  const ox = (w - img.naturalWidth * scale) / 2;
  const oy = (hgt - img.naturalHeight * scale) / 2;
  const [x1, y1, x2, y2] = box;
  ctx.lineWidth = 3;
  ctx.strokeStyle = LEVEL_STROKE[level] || LEVEL_STROKE[1];
  ctx.strokeRect(ox + x1 * scale, oy + y1 * scale, (x2 - x1) * scale, (y2 - y1) * scale);
}

export function plateFigure(alert) {
  const ev = evidenceOf(alert);
  const frame = h("div", { class: "media-frame plate-frame" });
  const fig = h("figure", { class: "media" }, frame, h("figcaption", {}, t("detail.plate")));
  if (!ev.plate) {
    frame.append(placeholder(t("detail.noimage")));
    return fig;
  }
  const img = h("img", { alt: `${t("detail.plate")} ${alert.subject || ""}`.trim() });
  frame.append(img);
  evidenceSrc(ev.plate).then((src) => {
    img.src = src;
  }, () => frame.replaceChildren(placeholder(t("detail.noimage"))));
  return fig;
}

export function clipFigure(alert) {
  const ev = evidenceOf(alert);
  const frame = h("div", { class: `media-frame${ev.clip ? "" : " media-none"}` });
  const fig = h("figure", { class: "media" }, frame, h("figcaption", {}, t("detail.clip")));
  if (!ev.clip) {
    frame.append(placeholder(t("detail.noclip")));
    return fig;
  }
  // The clip is fetched only when asked for: a shift opens hundreds of alerts.
  const play = h("button", { type: "button", class: "btn clip-play" }, `▶ ${t("detail.clip")}`);
  frame.append(play);
  play.addEventListener("click", () => {
    const video = h("video", { controls: true, playsinline: true, "aria-label": t("detail.clip") });
    frame.replaceChildren(video);
    evidenceSrc(ev.clip).then((src) => {
      video.src = src;
      video.play().catch(() => {});
      video.focus();
    }, () => frame.replaceChildren(placeholder(t("detail.noclip"))));
  });
  return fig;
}
