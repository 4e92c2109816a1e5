// @ts-check
// One alert in full: evidence (snapshot with box, plate crop, clip), where it happened,
// why it fired (watchlist entry and reason), its timeline and its 110 dispatch status.
// Live events for this alert re-fetch it, so the timeline grows while one watches.

import { ACTIONS, allowed, canReassign, perform, reassign } from "./actions.js";
import { currentUser, get } from "./api.js";
import { categoryName, clear, fmtCoord, fmtDateTime, fmtTime, h, levelName, setText, stateName, subjectOf } from "./dom.js";
import { clipFigure, plateFigure, snapshotFigure } from "./evidence.js";
import { t, tOr } from "./i18n.js";
import { neighbour, setSelected, slaText, summaryOf } from "./queue.js";
import { getAlert, subscribe, upsertAlert } from "./state.js";
import { timelineList } from "./timeline.js";

function fact(label, value) {
  if (value === null || value === undefined || value === "") return null;
  return [h("dt", {}, label), h("dd", {}, String(value))];
}

function section(title, ...body) {
  return h("section", { class: "panel" }, h("h2", { class: "panel-title" }, title), body);
}

/** One watchlist entry (any signed-in role may read it); null when it is gone. */
async function watchlistEntry(entryId) {
  try {
    return await get(`/api/watchlists/entries/${encodeURIComponent(entryId)}`);
  } catch (err) {
    if (err && err.status === 404) return null;
    throw err;
  }
}

function watchlistPanel(a) {
  const entryId = a.watchlist_entry_id;
  if (!entryId) return section(t("detail.watchlist"), h("p", { class: "muted" }, t("detail.wl.none")));
  const facts = h("dl", { class: "facts" }, fact(t("detail.wl.entry"), entryId));
  const note = h("p", { class: "muted" }, t("detail.wl.loading"));
  watchlistEntry(entryId).then((wl) => {
    note.remove();
    if (!wl) return;
    const until = wl.valid_until ? fmtDateTime(wl.valid_until) : t("wl.forever");
    facts.append(...[
      fact(t("detail.wl.reason"), wl.reason),
      fact(t("wl.category"), categoryName(wl.category)),
      fact(t("wl.level"), levelName(wl.level)),
      fact(t("wl.applicant"), [wl.applicant, wl.unit].filter(Boolean).join(" · ")),
      fact(t("detail.wl.validity"), until),
    ].flat().filter(Boolean));
  }, () => note.remove());
  return section(t("detail.watchlist"), facts, note);
}

/** A camera fault's picture health in the wall's words (frozen, black, blank → 画面异常). */
function cameraHealth(health) {
  if (health === "frozen" || health === "black" || health === "blank") return t("cam.tamper");
  return health === "degraded" ? t("cam.degraded") : null;
}

function observationPanel(a) {
  const o = a.observation || {};
  const conf = typeof o.confidence === "number" ? `${Math.round(o.confidence * 100)}%` : null;
  return section(t("detail.observation"), h("dl", { class: "facts" },
    fact(t("detail.obs.plate"), o.plate_raw && o.plate_raw !== o.plate ? `${o.plate} (${o.plate_raw})` : o.plate),
    fact(t("detail.obs.color"), o.color && tOr(`color.${o.color}`, o.color)),
    fact(t("detail.obs.type"), o.plate_type && tOr(`ptype.${o.plate_type}`, o.plate_type)),
    fact(t("detail.obs.confidence"), conf),
    fact(t("detail.obs.kind"), o.kind && categoryName(o.kind)),
    fact(t("detail.obs.zone"), o.zone),
    o.type === "camera_status" ? fact(t("wl.status"), tOr(`camstate.${o.state}`, o.state)) : null,
    o.type === "camera_status" ? fact(t("dash.cameras"), cameraHealth(o.health)) : null,
    fact(t("detail.rule"), a.rule_id)),
  o.plate ? h("a", { class: "btn btn-small", href: `#/trajectory?${new URLSearchParams({
    plate: o.plate, since: String(Math.floor(a.raised_at - 86400)), until: String(Math.ceil(a.raised_at + 3600)) })}` },
  t("detail.trajectory"), " →") : null);
}

function timelinePanel(entries, a) {
  return section(t("detail.timeline"), timelineList(entries, summaryOf(a), fmtTime));
}

function dispatchPanel(list) {
  if (list === null) return null;
  if (!list.length) return section(t("detail.dispatch"), h("p", { class: "muted" }, t("detail.dispatch.none")));
  return section(t("detail.dispatch"), h("ul", { class: "dispatch" }, list.map((d) =>
    h("li", { class: `dsp dsp-${d.state}` },
      h("span", { class: "dsp-target" }, d.target || "110"),
      h("span", { class: `state dsp-state-${d.state}` }, tOr(`dispatch.${d.state}`, d.state || "")),
      h("span", { class: "muted" }, [d.attempts ? t("dispatch.attempts", { n: d.attempts }) : "",
        d.delivered_at ? fmtTime(d.delivered_at) : "", d.last_error || ""].filter(Boolean).join(" · "))))));
}

function header(a, onAct) {
  const sla = slaText(a);
  return h("div", { class: "detail-head" },
    h("a", { class: "btn", href: "#/queue" }, "← ", t("act.back")),
    h("span", { class: `lvl lvl-${a.level}` }, levelName(a.level)),
    h("h1", { class: "plate plate-xl" }, subjectOf(a)),
    h("span", { class: "cat" }, categoryName(a.category)),
    a.review_only ? h("span", { class: "tag tag-review" }, t("review.only")) : null,
    h("span", { class: `state state-${a.state}`, id: "detail-state", dataset: { state: a.state } },
      stateName(a.state)),
    a.claimed_by ? h("span", { class: "holder" }, t("claimed.by", { who: a.claimed_by })) : null,
    h("span", { class: `q-sla sla-${sla.tone}`, id: "detail-sla" },
      h("span", { class: "sla-label" }, sla.label), h("span", { class: "sla-time" }, sla.time)),
    h("div", { class: "actions" }, Object.entries(ACTIONS).map(([name, spec]) =>
      h("button", { type: "button", class: `btn act-${name}${name === "sign" ? " btn-primary" : ""}`,
        disabled: !allowed(name, a), "aria-keyshortcuts": spec.key.toUpperCase(),
        onclick: () => onAct(name) }, t(`act.${name}`), h("kbd", {}, spec.key.toUpperCase()))),
      // 改派: the holder, a supervisor or an admin gives the alert to someone on shift
      canReassign(a, currentUser()) ? h("button", { type: "button", class: "btn act-reassign",
        "aria-keyshortcuts": "R", title: t("detail.reassign.hint"), onclick: () => onAct("reassign") },
      t("act.reassign"), h("kbd", {}, "R")) : null));
}

export function mount(root, params) {
  const id = decodeURIComponent(params[0] || "");
  setSelected(id);
  let res = null;
  let pending = null;
  let alive = true;
  let own = false; // our own upsert must not schedule another load (it looped 3×/s)
  let media = null; // kept across renders while the evidence is the same: a playing clip
  let mediaKey = ""; // survives a state change instead of being rebuilt
  root.append(h("p", { class: "muted loading" }, t("detail.loading")));

  async function load() {
    try {
      const data = await get(`/api/alerts/${encodeURIComponent(id)}`);
      if (!alive) return;
      res = data;
      own = true;
      try {
        upsertAlert(data.alert || data);
      } finally {
        own = false;
      }
      render();
    } catch (err) {
      if (!alive) return;
      clear(root).append(h("div", { class: "notice" },
        h("h1", {}, err.status === 404 ? t("detail.notfound") : t("act.failed", { msg: err.message })),
        h("a", { class: "btn", href: "#/queue" }, "← ", t("act.back"))));
    }
  }

  function act(name) {
    // the store change re-fetches the timeline (subscription below)
    if (name === "reassign") {
      if (canReassign(getAlert(id), currentUser())) reassign(id);
    } else perform(name, id);
  }

  function mediaOf(a) {
    const key = JSON.stringify([a.evidence ?? null, a.boxes ?? null, a.box ?? null]);
    if (!media || key !== mediaKey) {
      media = h("div", { class: "detail-media" }, snapshotFigure(a, { cls: "snap-large" }), clipFigure(a));
      mediaKey = key;
    }
    return media;
  }

  function render() {
    const a = getAlert(id) || res.alert || res;
    const timeline = res.timeline || a.timeline || [];
    const dispatches = res.dispatch ?? res.dispatches ?? null; // null: not shown to this role
    const cam = [a.camera_name, a.camera_id && a.camera_id !== a.camera_name ? a.camera_id : null]
      .filter(Boolean).join(" · ");
    const where = section(t("detail.camera"), h("dl", { class: "facts" },
      fact(t("detail.camera"), cam),
      fact(t("detail.address"), a.address),
      fact(t("detail.position"), a.lon !== null && a.lon !== undefined
        ? `${fmtCoord(a.lon, a.lat)} (${a.crs || "WGS84"})` : null),
      fact(t("detail.raised"), fmtDateTime(a.raised_at))));
    root.replaceChildren(
      header(a, act),
      h("p", { class: "detail-summary" }, summaryOf(a)),
      h("div", { class: "detail-grid" },
        mediaOf(a),
        h("div", { class: "detail-side" }, plateFigure(a), where, watchlistPanel(a), observationPanel(a),
          timelinePanel(timeline, a), dispatchPanel(dispatches))));
  }

  const unsubscribe = subscribe((change) => {
    if (own || change.type !== "alert" || change.id !== id || !res) return;
    clearTimeout(pending);
    pending = setTimeout(load, 300);
  });
  const ticker = setInterval(() => {
    const a = getAlert(id);
    const el = document.getElementById("detail-sla");
    if (!a || !el) return;
    const sla = slaText(a);
    el.className = `q-sla sla-${sla.tone}`;
    setText(el.firstChild, sla.label);
    setText(el.lastChild, sla.time);
  }, 1000);
  load();

  return {
    unmount() {
      alive = false;
      unsubscribe();
      clearInterval(ticker);
      clearTimeout(pending);
      clear(root);
    },
    onKey(key) {
      if (key === "Escape") location.hash = "#/queue";
      else if (key === "j" || key === "k") {
        const next = neighbour(id, key === "j" ? 1 : -1);
        if (next && next !== id) location.hash = `#/alert/${encodeURIComponent(next)}`;
      } else if (key === "r") act("reassign");
      else {
        const action = Object.keys(ACTIONS).find((n) => ACTIONS[n].key === key);
        if (!action) return false;
        act(action);
      }
      return true;
    },
  };
}
