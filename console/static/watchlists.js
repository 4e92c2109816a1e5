// @ts-check
// Watchlists (布控), administrators only: deploy, approve, withdraw with a reason, and CSV
// import with every bad row listed. A monitor never sees the tab; opening the URL anyway
// shows "no permission" (and the server answers 403 regardless).

import { ApiError, currentUser, get, request } from "./api.js";
import { askReason, toast } from "./dialogs.js";
import { categoryName, clear, fmtDateTime, h, levelName, setText } from "./dom.js";
import { t, tOr } from "./i18n.js";
import { problemLines } from "./problems.js";

const CATEGORIES = ["wanted", "stolen", "key_vehicle", "cloned_suspect", "custom"];
/** Levels whose entries always wait for a second administrator (docs/watchlists.md; the
 * server refuses requires_approval=false for them), so the box is on and fixed there. */
const APPROVAL_LEVELS = [1, 2];

export const canManage = (user) => Boolean(user && user.role === "admin");

function noPermission(root) {
  root.append(h("div", { class: "notice notice-deny", role: "alert", id: "no-permission" },
    h("h1", {}, t("wl.noperm")), h("p", {}, t("wl.noperm.detail")),
    h("a", { class: "btn", href: "#/queue" }, "← ", t("act.back"))));
}

/** Problem lines of a refused request, in the page's language (problems.js). */
export function problemsOf(err) {
  const b = err instanceof ApiError ? err.body : null;
  const lines = err instanceof ApiError && err.status === 422 ? problemLines(b) : [];
  return lines.length ? lines : [err.message];
}

/** "2026-11-01T08:00" (datetime-local, the workstation's zone) → ISO 8601 with its offset. */
function isoWithOffset(value) {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, "0");
  const mm = String(Math.abs(off) % 60).padStart(2, "0");
  return `${value.length === 16 ? `${value}:00` : value}${sign}${hh}:${mm}`;
}

function field(id, label, input, help) {
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    help ? h("small", { class: "muted", id: `${id}-help` }, help) : null);
}

function deployForm(onDone) {
  const plate = h("input", { id: "wl-plate", name: "plate", required: true, class: "input-plate", autocomplete: "off", placeholder: "京A12345" });
  const category = h("select", { id: "wl-category", name: "category" },
    CATEGORIES.map((c) => h("option", { value: c }, categoryName(c))));
  const level = h("select", { id: "wl-level", name: "level" },
    [1, 2, 3, 4].map((l) => h("option", { value: String(l), selected: l === 2 }, levelName(l))));
  const reason = h("textarea", { id: "wl-reason", name: "reason", rows: 2, required: true });
  const from = h("input", { id: "wl-from", name: "valid_from", type: "datetime-local" });
  const until = h("input", { id: "wl-until", name: "valid_until", type: "datetime-local" });
  const scope = h("input", { id: "wl-scope", name: "scope", value: "all", "aria-describedby": "wl-scope-help" });
  const approval = h("input", { id: "wl-approval", name: "requires_approval", type: "checkbox" });
  const forced = h("small", { class: "muted", id: "wl-approval-note" });
  const syncApproval = () => { // on and fixed for levels that always need approval
    const must = APPROVAL_LEVELS.includes(Number(level.value));
    approval.checked = must || (approval.disabled ? false : approval.checked);
    approval.disabled = must;
    setText(forced, must ? t("wl.approval.forced") : "");
  };
  level.addEventListener("change", syncApproval);
  syncApproval();
  const errors = h("div", { class: "form-errors", role: "alert" });
  const form = h("form", { class: "panel wl-form", id: "wl-deploy", "aria-labelledby": "wl-deploy-title" },
    h("h2", { class: "panel-title", id: "wl-deploy-title" }, t("wl.deploy")),
    h("div", { class: "form-grid" },
      field("wl-plate", t("wl.plate"), plate), field("wl-category", t("wl.category"), category),
      field("wl-level", t("wl.level"), level), field("wl-from", t("wl.valid_from"), from),
      field("wl-until", t("wl.valid_until"), until),
      field("wl-scope", t("wl.scope"), scope, t("wl.scope.help"))),
    field("wl-reason", t("wl.reason"), reason),
    h("label", { class: "check", for: "wl-approval" }, approval, t("wl.requires_approval")), forced, errors,
    h("button", { type: "submit", class: "btn btn-primary" }, t("wl.submit")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errors.replaceChildren();
    const body = {
      plate: plate.value.trim(), category: category.value, level: Number(level.value),
      reason: reason.value.trim(), valid_from: isoWithOffset(from.value) || undefined,
      valid_until: isoWithOffset(until.value) || undefined, scope: scope.value.trim() || "all",
      // levels 1-2 always wait for approval (the server decides); the box asks it for 3-4
      requires_approval: approval.checked || undefined,
    };
    try {
      await request("POST", "/api/watchlists/entries", { json: body });
      toast(t("wl.deployed", { plate: body.plate }), "ok");
      form.reset();
      syncApproval(); // reset() puts the level back to 2 without a change event
      onDone();
    } catch (err) {
      errors.replaceChildren(h("p", {}, t("wl.errors")),
        h("ul", {}, problemsOf(err).map((p) => h("li", {}, p))));
    }
  });
  return form;
}

/** The server takes UTF-8; Excel on Chinese Windows saves GB18030, so convert here. */
function decodeCsv(buf) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return new TextDecoder("gb18030").decode(buf);
  }
}

function importForm(onDone) {
  const file = h("input", { id: "wl-file", type: "file", accept: ".csv,text/csv" });
  const out = h("div", { class: "import-result", role: "status", id: "wl-import-result" });
  const form = h("form", { class: "panel wl-form", id: "wl-import", "aria-labelledby": "wl-import-title" },
    h("h2", { class: "panel-title", id: "wl-import-title" }, t("wl.import")),
    field("wl-file", t("wl.import.file"), file, t("wl.import.help")), out,
    h("button", { type: "submit", class: "btn" }, t("wl.import.submit")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    const f = file.files && file.files[0];
    if (!f) return;
    try {
      const text = decodeCsv(await f.arrayBuffer());
      const res = await request("POST", "/api/watchlists/import", { body: text, contentType: "text/csv; charset=utf-8" });
      const n = res && (res.imported ?? res.count ?? (Array.isArray(res.entries) ? res.entries.length : res.length));
      out.replaceChildren(h("p", { class: "ok-text" }, t("wl.import.ok", { n: n ?? "?" })));
      form.reset();
      onDone();
    } catch (err) {
      const problems = problemsOf(err);
      out.replaceChildren(h("p", { class: "error-text" }, t("wl.import.errors", { n: problems.length })),
        h("ul", { class: "problems" }, problems.map((p) => h("li", {}, p))));
    }
  });
  return form;
}

function validity(e) {
  const from = e.valid_from ? fmtDateTime(e.valid_from) : "";
  const until = e.valid_until ? fmtDateTime(e.valid_until) : t("wl.forever");
  return from ? `${from} → ${until}` : until;
}

function scopeText(s) {
  if (!s || s === "all") return "all";
  if (typeof s === "string") return s;
  const parts = [...(s.cameras || []).map((c) => `camera:${c}`), ...(s.groups || []).map((g) => `group:${g}`),
    ...(s.areas || []).map((a) => `area:${a}`)];
  return parts.join("; ") || "all";
}

export function mount(root) {
  if (!canManage(currentUser())) {
    noPermission(root);
    return { unmount: () => clear(root), onKey: () => false };
  }
  const tbody = h("tbody");
  const count = h("span", { class: "view-count" });
  const table = h("table", { class: "table", id: "wl-table" },
    h("caption", { class: "sr-only" }, t("wl.entries")),
    h("thead", {}, h("tr", {}, [t("wl.plate"), t("wl.category"), t("wl.level"), t("wl.reason"),
      t("wl.applicant"), t("wl.validity"), t("wl.scope"), t("wl.status"), t("wl.actions")]
      .map((c) => h("th", { scope: "col" }, c)))), tbody);
  root.append(h("div", { class: "view-head" }, h("h1", {}, t("wl.title")), count),
    h("div", { class: "wl-layout" },
      h("div", { class: "wl-forms" }, deployForm(load), importForm(load)),
      h("section", { class: "panel wl-list" }, h("h2", { class: "panel-title" }, t("wl.entries")), table)));
  let alive = true;

  async function act(e, action) {
    const id = encodeURIComponent(e.entry_id);
    try {
      if (action === "approve") {
        await request("POST", `/api/watchlists/entries/${id}/approve`, { json: {} });
        toast(t("wl.approved", { plate: e.plate || e.pattern }), "ok");
      } else {
        const reason = await askReason(t("wl.withdraw.title", { plate: e.plate || e.pattern }), t("wl.withdraw.reason"));
        if (!reason) return;
        await request("POST", `/api/watchlists/entries/${id}/withdraw`, { json: { reason } });
        toast(t("wl.withdrawn", { plate: e.plate || e.pattern }), "ok");
      }
      load();
    } catch (err) {
      toast(t("act.failed", { msg: problemsOf(err).join("; ") }), "error", 7000);
    }
  }

  const me = (currentUser() || {}).username;

  /** Approve for a pending entry — not to its applicant (four eyes; the server refuses too). */
  function approveCell(e) {
    if (e.status !== "pending_approval") return null;
    if (e.applicant && e.applicant === me) return h("span", { class: "muted wl-own" }, t("wl.own"));
    return h("button", { type: "button", class: "btn btn-small", onclick: () => act(e, "approve") }, t("wl.approve"));
  }

  function row(e) {
    const live = e.status === "active" || e.status === "pending_approval";
    return h("tr", { dataset: { entryId: e.entry_id, status: e.status } },
      h("td", { class: "plate" }, e.plate || e.pattern || ""),
      h("td", {}, categoryName(e.category)),
      h("td", {}, h("span", { class: `lvl lvl-${e.level}` }, levelName(e.level))),
      h("td", { class: "wrap" }, e.reason || ""),
      h("td", {}, [e.applicant, e.unit].filter(Boolean).join(" · ")),
      h("td", {}, validity(e)),
      h("td", {}, scopeText(e.scope)),
      h("td", {}, h("span", { class: `state wl-${e.status}` }, tOr(`wl.st.${e.status}`, e.status || ""))),
      h("td", {}, h("div", { class: "row-actions" },
        approveCell(e),
        live ? h("button", { type: "button", class: "btn btn-small", onclick: () => act(e, "withdraw") }, t("wl.withdraw")) : null)));
  }

  async function load() {
    try {
      const res = await get("/api/watchlists/entries");
      if (!alive) return;
      const list = Array.isArray(res) ? res : res.items || [];
      setText(count, t("queue.count", { n: res.total ?? list.length }));
      tbody.replaceChildren(...(list.length ? list.map(row)
        : [h("tr", {}, h("td", { colspan: 9, class: "muted" }, t("wl.empty")))]));
    } catch (err) {
      if (!alive) return;
      if (err.status === 403) {
        clear(root);
        noPermission(root);
      } else {
        tbody.replaceChildren(h("tr", {}, h("td", { colspan: 9 }, t("act.failed", { msg: err.message }))));
      }
    }
  }
  load();
  return {
    unmount() {
      alive = false;
      clear(root);
    },
    onKey: () => false,
  };
}
