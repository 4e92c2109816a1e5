// @ts-check
// The alert queue: level 1 on top, newest first within a level, one fixed-height row per
// alert (so arriving alerts never make the rows jump in height), a preview of the selected
// alert beside it, and the keyboard: j/k move, Enter opens, s/d/f/c/x/r act.
//
// For a whole shift: the filter bar (queuefilter.js); repeats of one (rule, camera,
// subject) among open alerts folded into one row with a count (Enter unfolds it); rows
// marked with Space (A marks every row shown) for bulk sign / dismiss with S / X; reassign
// (R) and handover. Grouping is done here, on the alerts the page holds, so a repeat that
// arrives live joins its row at once (docs/console-ui.md).

import { ACTIONS, allowed, canReassign, handover, perform, performBulk, reassign } from "./actions.js";
import { currentUser } from "./api.js";
import { toast } from "./dialogs.js";
import { clear, h, setText } from "./dom.js";
import { snapshotFigure } from "./evidence.js";
import { t } from "./i18n.js";
import { fetchMatching, filterBar, getFilters, matches, narrowed, setFilters } from "./queuefilter.js";
import { entriesOf, groupRowFor, memberList, previewBody, rowFor, slaText } from "./queuerows.js";
import { getAlert, listAlerts, serverNow, subscribe } from "./state.js";

export { slaText, summaryOf } from "./queuerows.js";

let selectedId = null; // an alert id, or "g:<key>" for a folded group
const expanded = new Set(); // group keys shown unfolded
const marked = new Set(); // alert ids marked for a bulk action

export const getSelected = () => selectedId;
export function setSelected(id) {
  selectedId = id;
}

/** The alerts the queue shows (filters applied), in queue order. */
function shown() {
  return listAlerts("all").filter((a) => matches(a));
}

/** Neighbour of an alert in the queue order (detail view j/k). */
export function neighbour(id, step) {
  const list = shown();
  const i = list.findIndex((a) => a.alert_id === id);
  const next = list[Math.max(0, Math.min(list.length - 1, (i < 0 ? 0 : i + step)))];
  return next ? next.alert_id : null;
}

/** The moves the alert's state allows now (the detail view shows all five). */
function actionButtons(a, user) {
  const moves = Object.entries(ACTIONS).filter(([name]) => allowed(name, a));
  return h("div", { class: "actions" }, moves.map(([name, spec], i) =>
    h("button", {
      type: "button", class: `btn act-${name}${i === 0 && name !== "dismiss" ? " btn-primary" : ""}`,
      "aria-keyshortcuts": spec.key.toUpperCase(), onclick: () => perform(name, a.alert_id),
    }, t(`act.${name}`), h("kbd", {}, spec.key.toUpperCase()))),
  canReassign(a, user) ? h("button", { type: "button", class: "btn act-reassign", "aria-keyshortcuts": "R",
    onclick: () => reassign(a.alert_id) }, t("act.reassign"), h("kbd", {}, "R")) : null);
}

export function mount(root) {
  const user = currentUser();
  const list = h("div", { class: "queue-list", role: "listbox", tabindex: "0",
    "aria-label": t("queue.list"), "aria-multiselectable": "true" });
  const preview = h("aside", { class: "queue-preview", "aria-label": t("queue.preview") });
  const count = h("span", { class: "view-count", "aria-live": "polite" });
  const empty = h("div", { class: "queue-empty" });
  const more = h("div", { class: "queue-more", hidden: true }, t("queue.f.more"));
  const scope = getFilters().scope;
  const seg = h("div", { class: "segmented", role: "radiogroup", "aria-label": t("queue.filter.label") },
    ["open", "all"].map((f) => h("button", {
      type: "button", role: "radio", "aria-checked": String(scope === f), dataset: { filter: f },
      onclick: () => setScope(f),
    }, t(`queue.filter.${f}`))));
  const markCount = h("span", { class: "bulk-count", "aria-live": "polite" });
  const bulkBar = h("div", { class: "bulk-bar", id: "bulk-bar", hidden: true }, markCount,
    h("button", { type: "button", class: "btn btn-small btn-primary", id: "bulk-sign",
      onclick: () => bulk("sign") }, t("bulk.sign"), h("kbd", {}, "S")),
    h("button", { type: "button", class: "btn btn-small", id: "bulk-dismiss",
      onclick: () => bulk("dismiss") }, t("bulk.dismiss"), h("kbd", {}, "X")),
    h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => unmarkAll() },
      t("bulk.clear"), h("kbd", {}, "Esc")));
  const handBtn = h("button", { type: "button", class: "btn btn-small", id: "handover",
    onclick: () => handover(user) }, t("act.handover"));
  let bar = filterBar(onFilter);
  root.append(
    h("div", { class: "view-head" }, h("h1", {}, t("queue.title")), count, seg, bulkBar,
      h("span", { class: "view-hint" }, t("queue.hint")), handBtn),
    bar.el,
    h("div", { class: "queue-layout" }, h("div", { class: "queue-col" }, list, more, empty), preview));

  let previewSig = null;
  let entries = [];
  let fetchSeq = 0;

  function setScope(f) {
    setFilters({ scope: f });
    sessionStorage.setItem("vigil.queue.filter", f);
    seg.querySelectorAll("button").forEach((b) =>
      b.setAttribute("aria-checked", String(b.dataset.filter === f)));
    onFilter(true);
  }

  async function onFilter(server, rebuild = false) {
    if (rebuild) {
      const fresh = filterBar(onFilter);
      bar.el.replaceWith(fresh.el);
      bar = fresh;
    }
    render();
    if (!server || !narrowed()) {
      more.hidden = true;
      return;
    }
    const mine = ++fetchSeq;
    try {
      const hasMore = await fetchMatching();
      if (mine === fetchSeq) more.hidden = !hasMore;
    } catch (err) {
      if (err.status !== 401) toast(t("act.failed", { msg: err.message }), "error");
    }
  }

  function render() {
    const alerts = shown();
    entries = entriesOf(alerts, getFilters().group);
    const ids = new Set(alerts.map((a) => a.alert_id));
    for (const id of marked) if (!ids.has(id)) marked.delete(id);
    const rows = rowIds();
    if (!rows.includes(selectedId)) {
      const lead = selectedId && entries.find((e) => e.members.some((m) => m.alert_id === selectedId));
      selectedId = lead ? lead.id : rows[0] || null;
    }
    reconcile();
    list.setAttribute("aria-activedescendant", selectedId ? rowEl(selectedId)?.id || "" : "");
    setText(count, t("queue.count", { n: alerts.length }));
    setText(empty, alerts.length ? "" : t(narrowed() ? "queue.empty.filtered"
      : getFilters().scope === "open" ? "queue.empty" : "queue.empty.all"));
    empty.hidden = alerts.length > 0;
    renderMarks();
    renderPreview();
    bar.refresh();
  }

  /** Row ids in order: entries, and the members of unfolded groups after their row. */
  function rowIds() {
    return entries.flatMap((e) => (e.key && expanded.has(e.key)
      ? [e.id, ...e.members.map((m) => m.alert_id)] : [e.id]));
  }

  const rowEl = (id) => list.querySelector(`[data-row-id="${CSS.escape(id)}"]`);

  // Keyed update: unchanged rows keep their DOM node, so the browser's scroll anchoring
  // holds the rows the operator is reading still while others are inserted above.
  const rowCache = new Map(); // row id -> {row, sig}
  function reconcile() {
    const keep = new Set();
    let cursor = list.firstChild;
    const place = (id, sig, make) => {
      let entry = rowCache.get(id);
      if (!entry || entry.sig !== sig) {
        const row = make();
        if (entry) {
          if (entry.row === cursor) cursor = cursor.nextSibling;
          entry.row.remove();
        }
        entry = { row, sig };
        rowCache.set(id, entry);
      }
      entry.row.setAttribute("aria-selected", id === selectedId ? "true" : "false");
      keep.add(id);
      if (entry.row !== cursor) list.insertBefore(entry.row, cursor);
      else cursor = cursor.nextSibling;
    };
    const alertSig = (a) => `${a.state}|${a.claimed_by}|${a.level}|${a.subject}|${a.escalations}|${a.summary_zh}|${a.camera_name}|${marked.has(a.alert_id)}`;
    for (const e of entries) {
      if (!e.key) {
        place(e.id, alertSig(e.members[0]), () => rowFor(e.members[0], { selected: selectedId, marked }));
        continue;
      }
      const open = expanded.has(e.key);
      place(e.id, `${open}|${e.members.map(alertSig).join(";")}`, () => groupRowFor(e, { selected: selectedId, marked, open }));
      if (open) e.members.forEach((m) => place(m.alert_id, `m|${alertSig(m)}`, () => rowFor(m, { selected: selectedId, marked, member: true })));
    }
    for (const [id, entry] of rowCache) {
      if (!keep.has(id)) {
        entry.row.remove();
        rowCache.delete(id);
      }
    }
  }

  const entryOf = (id) => entries.find((e) => e.id === id) || null;
  /** The alert ids a row stands for: a group's members, or the alert itself. */
  const idsOf = (id) => (entryOf(id)?.key ? entryOf(id).members.map((m) => m.alert_id) : id ? [id] : []);

  function renderMarks() {
    bulkBar.hidden = marked.size === 0;
    setText(markCount, t("bulk.selected", { n: marked.size }));
  }

  function renderPreview() {
    const g = selectedId && selectedId.startsWith("g:") ? entryOf(selectedId) : null;
    const a = g ? g.members[0] : selectedId ? getAlert(selectedId) : null;
    if (!a) {
      previewSig = null;
      preview.replaceChildren(h("div", { class: "media-empty pv-none" }, t("queue.nothing")));
      return;
    }
    const sig = `${selectedId}|${a.state}|${a.claimed_by}|${g ? g.members.map((m) => m.state).join() : ""}`;
    if (previewSig === sig) return;
    const keepFigure = previewSig && previewSig.startsWith(`${selectedId}|`) && preview.querySelector("figure");
    const fig = keepFigure || snapshotFigure(a, { caption: false, cls: "pv-snap" });
    previewSig = sig;
    preview.replaceChildren(fig, ...previewBody(a), g ? memberList(g) : actionButtons(a, user),
      h("button", { type: "button", class: "btn btn-wide", onclick: () => open(selectedId) },
        t(g ? "queue.unfold" : "act.open"), h("kbd", {}, "Enter")));
  }

  function select(id, scroll = true) {
    if (!id || id === selectedId) return;
    selectedId = id;
    for (const r of list.querySelectorAll('[aria-selected="true"]')) r.setAttribute("aria-selected", "false");
    const row = rowEl(id);
    if (row) {
      row.setAttribute("aria-selected", "true");
      if (scroll) row.scrollIntoView({ block: "nearest" });
      list.setAttribute("aria-activedescendant", row.id);
    }
    renderPreview();
  }

  /** Enter: a group folds or unfolds; an alert opens its detail. */
  function open(id) {
    const e = entryOf(id);
    if (e && e.key) {
      if (expanded.has(e.key)) expanded.delete(e.key);
      else expanded.add(e.key);
      render();
    } else if (id) location.hash = `#/alert/${encodeURIComponent(id)}`;
  }

  function toggleMark(id) {
    const ids = idsOf(id);
    const all = ids.every((x) => marked.has(x));
    ids.forEach((x) => (all ? marked.delete(x) : marked.add(x)));
    render();
  }

  function unmarkAll() {
    marked.clear();
    render();
    list.focus({ preventScroll: true });
  }

  async function bulk(action) {
    const res = await performBulk(action, [...marked]);
    if (res) unmarkAll();
  }

  list.addEventListener("click", (ev) => {
    const target = /** @type {Element} */ (ev.target);
    const row = /** @type {HTMLElement | null} */ (target.closest(".qrow"));
    if (!row) return;
    if (target.closest(".q-pick")) {
      toggleMark(row.dataset.rowId);
      list.focus({ preventScroll: true });
    } else select(row.dataset.rowId, false);
  });
  list.addEventListener("dblclick", (ev) => {
    const target = /** @type {Element} */ (ev.target);
    const row = /** @type {HTMLElement | null} */ (target.closest(".qrow"));
    if (row && !target.closest(".q-pick")) open(row.dataset.rowId);
  });

  function tick() {
    for (const row of /** @type {HTMLCollectionOf<HTMLElement>} */ (list.children)) {
      const a = getAlert(row.dataset.alertId || row.dataset.leadId);
      if (!a) continue;
      const sla = slaText(a);
      const cell = row.querySelector(".q-sla");
      cell.className = `q-sla sla-${sla.tone}`;
      setText(cell.firstChild, sla.label);
      setText(cell.lastChild, sla.time);
      if (row.classList.contains("fresh") && serverNow() - (a._fresh || 0) >= 8) {
        row.classList.remove("fresh");
      }
    }
  }

  const unsubscribe = subscribe((change) => {
    if (change.type === "alert" || change.type === "reset") render();
    else if (change.type === "cameras") bar.refresh();
  });
  const ticker = setInterval(tick, 1000);
  onFilter(true);
  list.focus({ preventScroll: true });

  return {
    unmount() {
      unsubscribe();
      clearInterval(ticker);
      clear(root);
    },
    onKey(key) {
      const ids = rowIds();
      const i = ids.indexOf(selectedId);
      if (key === "j" || key === "ArrowDown") select(ids[Math.min(ids.length - 1, i + 1)]);
      else if (key === "k" || key === "ArrowUp") select(ids[Math.max(0, i - 1)]);
      else if (key === "Home") select(ids[0]);
      else if (key === "End") select(ids[ids.length - 1]);
      else if (key === "Enter") open(selectedId);
      else if (key === " ") { if (selectedId) toggleMark(selectedId); }
      else if (key === "a") {
        const all = shown().map((a) => a.alert_id);
        if (all.every((id) => marked.has(id))) marked.clear(); else all.forEach((id) => marked.add(id));
        render();
      } else if (key === "/") bar.search.focus();
      else if (key === "Escape" && marked.size) unmarkAll();
      else if (key === "r") {
        const a = getAlert(selectedId);
        if (canReassign(a, user)) reassign(selectedId); else toast(t("act.notallowed", { what: t("act.reassign") }), "warn");
      } else {
        const action = Object.keys(ACTIONS).find((n) => ACTIONS[n].key === key);
        if (!action) return false;
        if (marked.size && (action === "sign" || action === "dismiss")) bulk(action);
        else if (selectedId && selectedId.startsWith("g:") && (action === "sign" || action === "dismiss")) {
          performBulk(action, idsOf(selectedId));
        } else if (selectedId && selectedId.startsWith("g:")) toast(t("queue.group.act"), "warn");
        else perform(action, selectedId);
      }
      return true;
    },
  };
}
