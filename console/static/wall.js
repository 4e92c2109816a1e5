// @ts-check
// The camera wall: every camera's latest picture, grouped by camera group, refreshed once a
// second — but only for tiles on screen and only while the page is visible (an
// IntersectionObserver tracks which tiles can be seen). A request still in flight is never
// doubled. Click or Enter enlarges a camera; the enlarged picture refreshes too.

import { blobUrl } from "./api.js";
import { clear, fmtTime, h, setText } from "./dom.js";
import { t } from "./i18n.js";
import { cameraBadge, getCamera, listCameras, subscribe } from "./state.js";

const REFRESH_MS = 1000;
const LIVE_BADGES = new Set(["streaming", "tamper", "degraded", "stalled"]);

/** Keeps one <img> showing a camera's latest frame; call refresh() to fetch the next. */
export class LivePicture {
  constructor(cameraId, img, onMissing) {
    this.cameraId = cameraId;
    this.img = img;
    this.onMissing = onMissing;
    this.busy = false;
    this.url = null;
    this.loaded = false;
  }

  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const src = `/api/cameras/${encodeURIComponent(this.cameraId)}/snapshot.jpg?t=${Date.now()}`;
      const next = await blobUrl(src);
      const old = this.url;
      this.url = next;
      this.img.src = next;
      this.loaded = true;
      this.img.parentElement?.classList.remove("no-picture");
      if (old) setTimeout(() => URL.revokeObjectURL(old), 2000);
    } catch {
      this.onMissing();
    } finally {
      this.busy = false;
    }
  }

  dispose() {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }
}

function badge(c) {
  const b = cameraBadge(c);
  return h("span", { class: `badge badge-${b}`, dataset: { badge: b } }, t(`cam.${b}`));
}

function groupsOf(cameras) {
  const groups = new Map();
  for (const c of cameras) {
    const g = c.group || "—";
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(c);
  }
  for (const list of groups.values()) list.sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id), "zh"));
  return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0], "zh"));
}

function metaText(c) {
  const parts = [];
  if (c.fps) parts.push(t("wall.fps", { fps: Number(c.fps).toFixed(0) }));
  if (c.analysed_fps) parts.push(t("wall.analysed", { fps: Number(c.analysed_fps).toFixed(1) }));
  // Load shedding (ingest/shedding.py) is shown, never silent: the rate it holds the camera
  // to, and whether it decodes keyframes only.
  if (c.keyframes_only) parts.push(t("wall.keyframes"));
  else if (c.shedding && c.target_fps) parts.push(t("wall.shedding", { fps: c.target_fps }));
  if (c.last_frame_at) parts.push(t("wall.lastframe", { t: fmtTime(c.last_frame_at) }));
  return parts.join(" · ");
}

export function mount(root) {
  const body = h("div", { class: "wall" });
  const count = h("span", { class: "view-count" });
  root.append(h("div", { class: "view-head" }, h("h1", {}, t("wall.title")), count), body);
  const tiles = new Map(); // id -> {el, pic, visible, meta, badgeBox}
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const tile = tiles.get(/** @type {HTMLElement} */ (e.target).dataset.cameraId);
      if (!tile) continue;
      tile.visible = e.isIntersecting;
      if (tile.visible && !tile.pic.loaded) tile.pic.refresh();
    }
  });

  function build() {
    observer.disconnect();
    tiles.forEach((tile) => tile.pic.dispose());
    tiles.clear();
    const cameras = listCameras();
    setText(count, t("wall.count", { n: cameras.length }));
    if (!cameras.length) {
      body.replaceChildren(h("p", { class: "muted" }, t("wall.empty")));
      return;
    }
    body.replaceChildren(...groupsOf(cameras).map(([group, list]) =>
      h("section", { class: "wall-group", "aria-label": group },
        h("h2", { class: "wall-group-title" }, group, h("span", { class: "muted" }, ` · ${list.length}`)),
        h("div", { class: "wall-grid", style: `--cols:${Math.min(list.length, 4)}` }, list.map(tileFor)))));
  }

  function tileFor(c) {
    const img = h("img", { alt: "", decoding: "async" });
    const frame = h("div", { class: "tile-picture no-picture" }, img,
      h("span", { class: "tile-empty" }, t("wall.nopicture")));
    const badgeBox = h("div", { class: "tile-badge" }, badge(c));
    const meta = h("div", { class: "tile-meta" }, metaText(c));
    const el = h("button", { type: "button", class: "tile", dataset: { cameraId: c.id },
      "aria-label": t("wall.enlarge", { name: c.name || c.id }), onclick: () => enlarge(c.id) },
    frame, badgeBox, h("div", { class: "tile-caption" },
      h("span", { class: "tile-name" }, c.name || c.id), meta));
    const pic = new LivePicture(c.id, img, () => frame.classList.add("no-picture"));
    tiles.set(c.id, { el, pic, visible: false, meta, badgeBox });
    observer.observe(el);
    return el;
  }

  function updateTile(id) {
    const tile = tiles.get(id);
    const c = getCamera(id);
    if (!tile || !c) {
      build();
      return;
    }
    tile.badgeBox.replaceChildren(badge(c));
    setText(tile.meta, metaText(c));
  }

  function tick() {
    if (document.hidden) return;
    for (const [id, tile] of tiles) {
      const c = getCamera(id);
      if (tile.visible && c && LIVE_BADGES.has(cameraBadge(c))) tile.pic.refresh();
    }
    if (zoom) zoom.tick();
  }

  let zoom = null;
  function enlarge(id) {
    if (zoom) zoom.close();
    zoom = openZoom(id, () => {
      zoom = null;
    });
  }

  const unsubscribe = subscribe((change) => {
    if (change.type === "cameras" || change.type === "reset") build();
    else if (change.type === "camera") updateTile(change.id);
  });
  const timer = setInterval(tick, REFRESH_MS);
  build();

  return {
    unmount() {
      unsubscribe();
      clearInterval(timer);
      observer.disconnect();
      tiles.forEach((tile) => tile.pic.dispose());
      if (zoom) zoom.close();
      clear(root);
    },
    onKey() {
      return false;
    },
  };
}

function openZoom(id, onClose) {
  const c = getCamera(id) || { id, name: id };
  const img = h("img", { alt: c.name || c.id });
  const frame = h("div", { class: "tile-picture zoom-picture no-picture" }, img,
    h("span", { class: "tile-empty" }, t("wall.nopicture")));
  const info = h("div", { class: "zoom-info" });
  const closeBtn = h("button", { type: "button", class: "btn" }, t("wall.close"));
  const dlg = h("dialog", { class: "dialog zoom", "aria-label": c.name || c.id },
    h("div", { class: "zoom-head" }, h("h2", {}, c.name || c.id), closeBtn), frame, info);
  const pic = new LivePicture(id, img, () => frame.classList.add("no-picture"));
  function renderInfo() {
    const cam = getCamera(id) || c;
    const loc = cam.location || {};
    info.replaceChildren(badge(cam), h("span", {}, [cam.id, cam.group, metaText(cam), loc.address]
      .filter(Boolean).join(" · ")));
  }
  function close() {
    pic.dispose();
    dlg.close();
    dlg.remove();
    onClose();
  }
  closeBtn.addEventListener("click", close);
  dlg.addEventListener("cancel", (ev) => {
    ev.preventDefault();
    close();
  });
  document.body.append(dlg);
  dlg.showModal();
  closeBtn.focus();
  renderInfo();
  pic.refresh();
  return {
    close,
    tick() {
      renderInfo();
      pic.refresh();
    },
  };
}
