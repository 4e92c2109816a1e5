// @ts-check
// API 令牌 on the users page, administrators only: a token for a user (it acts as that user,
// with their role at each request, and stops while they are disabled) or an integration
// token with a role of its own; its secret is shown once, in a dialog, and never again
// (the server keeps only its SHA-256); the list shows no secret; revoking asks first. All
// over /api/tokens (docs/console-api.md, "Session and people"), which audits every change.

import { request } from "./api.js";
import { ask, toast } from "./dialogs.js";
import { fmtDateTime, fromLocalInput, h, nowSec, setText } from "./dom.js";
import { t, tOr } from "./i18n.js";

const ROLES = ["monitor", "dispatcher", "supervisor", "admin"];
const roleName = (role) => tOr(`role.${role}`, role);

/** The new token's fields; `username` preselects a user (the row's 新建令牌 button). */
function tokenFields(users, username) {
  const name = h("input", { id: "tok-name", name: "name", autocomplete: "off", maxlength: 128 });
  const user = h("select", { id: "tok-user", name: "username" },
    h("option", { value: "" }, t("tok.user.none")),
    users.filter((u) => !u.disabled).map((u) => h("option", { value: u.username,
      selected: u.username === username }, u.display_name ? `${u.display_name}（${u.username}）` : u.username)));
  const role = h("select", { id: "tok-role", name: "role" },
    ROLES.map((r) => h("option", { value: r }, roleName(r))));
  const roleField = h("div", { class: "field" }, h("label", { for: "tok-role" }, t("tok.role")), role);
  const expires = h("input", { id: "tok-expires", name: "expires_at", type: "datetime-local" });
  // (style, not `hidden`: the .field rule's display would override the attribute)
  const sync = () => { roleField.style.display = user.value ? "none" : ""; };
  user.addEventListener("change", sync);
  sync();
  const nodes = [
    h("p", { class: "muted" }, t("tok.note")),
    h("label", { for: "tok-name" }, t("tok.name")), name,
    h("label", { for: "tok-user" }, t("tok.user")), user, roleField,
    h("label", { for: "tok-expires" }, t("tok.expires")), expires,
  ];
  const read = () => ({ name: name.value.trim(), username: user.value || undefined,
    role: user.value ? undefined : role.value, expires_at: fromLocalInput(expires.value) ?? undefined });
  return { nodes, read };
}

/** The secret, this once: selected on focus so Ctrl+C takes it. */
async function showSecret(made) {
  const secret = h("input", { id: "tok-secret", readonly: true, value: made.token, spellcheck: "false",
    autocomplete: "off", onfocus: (ev) => ev.target.select() });
  await ask(t("tok.created", { name: made.name }), [
    h("p", { class: "muted" }, t("tok.created.note")),
    h("label", { for: "tok-secret" }, t("tok.secret")), secret,
  ], () => true);
}

/** Ask for a new token, create it and show its secret; resolves true when one was made.
 * `failed` turns a refusal into words (the users page's own problem lines). */
export async function newToken(users, username, failed) {
  const f = tokenFields(users, username);
  for (;;) {
    const body = await ask(t("tok.dialog"), f.nodes, f.read, (v) => (v.name ? null : t("tok.name.required")));
    if (!body) return false;
    try {
      const made = await request("POST", "/api/tokens", { json: body });
      await showSecret(made);
      return true;
    } catch (err) {
      toast(t("act.failed", { msg: failed(err).join("；") }), "error", 7000);
      // the dialog again with what was typed: the admin fixes the one field at fault
    }
  }
}

function stateOf(tok, users) {
  if (tok.revoked_at) return "revoked";
  if (tok.expires_at && tok.expires_at <= nowSec()) return "expired";
  const user = tok.username ? users.find((u) => u.username === tok.username) : null;
  return user && user.disabled ? "useroff" : "active";
}

async function revoke(tok) {
  const sure = await ask(t("tok.revoke.title", { name: tok.name }), [h("p", {}, t("tok.revoke.body"))], () => true);
  if (!sure) return false;
  try {
    await request("DELETE", `/api/tokens/${tok.id}`);
    toast(t("tok.revoke.done", { name: tok.name }), "ok", 3000);
    return true;
  } catch (err) {
    toast(t("act.failed", { msg: err.message }), "error", 7000);
    return false;
  }
}

function tokenRow(tok, users, reload) {
  const state = stateOf(tok, users);
  const user = tok.username ? users.find((u) => u.username === tok.username) : null;
  const who = tok.username ? (user && user.display_name ? `${user.display_name}（${tok.username}）` : tok.username)
    : t("tok.integration");
  const onRevoke = async () => {
    if (await revoke(tok)) reload();
  };
  return h("tr", { dataset: { tokenId: String(tok.id), state } },
    h("td", { class: "tok-name" }, tok.name),
    h("td", {}, who),
    h("td", {}, roleName(tok.role)),
    h("td", {}, t("tok.by", { who: tok.created_by, time: fmtDateTime(tok.created_at) })),
    h("td", {}, tok.expires_at ? fmtDateTime(tok.expires_at) : t("tok.noexpiry")),
    h("td", {}, tok.last_used_at ? fmtDateTime(tok.last_used_at) : t("tok.never")),
    h("td", {}, h("span", { class: `state ${state === "active" ? "user-on" : "user-off"}` }, t(`tok.st.${state}`))),
    h("td", {}, state === "revoked" ? null : h("button", { type: "button", class: "btn btn-small tok-revoke",
      onclick: onRevoke, "aria-label": t("tok.revoke.title", { name: tok.name }) }, t("tok.revoke"))));
}

/**
 * The API token panel. `refresh(users)` re-reads the tokens (after any change on the page,
 * since disabling a user changes their tokens' state); `onNew` opens the new-token dialog.
 */
export function tokenPanel(onNew) {
  const tbody = h("tbody");
  const count = h("span", { class: "muted", id: "tok-count" });
  const add = h("button", { type: "button", class: "btn btn-small", id: "tok-new", onclick: () => onNew(null) },
    t("tok.new"));
  const cols = ["tok.col.name", "tok.col.user", "users.role", "tok.col.created", "tok.col.expires", "tok.col.used",
    "users.state", "users.actions"];
  const el = h("section", { class: "panel wl-list", id: "tok-panel", "aria-labelledby": "tok-title" },
    h("h2", { class: "panel-title", id: "tok-title" }, t("tok.title"), " ", count, " ", add),
    h("table", { class: "table", id: "tok-table" }, h("caption", { class: "sr-only" }, t("tok.title")),
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, t(c))))), tbody));

  async function refresh(users, reload) {
    try {
      const list = await request("GET", "/api/tokens");
      list.sort((a, b) => Number(Boolean(a.revoked_at)) - Number(Boolean(b.revoked_at)) || b.id - a.id);
      setText(count, t("tok.count", { n: list.filter((x) => stateOf(x, users) === "active").length }));
      tbody.replaceChildren(...(list.length ? list.map((x) => tokenRow(x, users, reload))
        : [h("tr", {}, h("td", { colspan: cols.length, class: "muted" }, t("tok.empty")))]));
    } catch (err) {
      tbody.replaceChildren(h("tr", {}, h("td", { colspan: cols.length }, t("act.failed", { msg: err.message }))));
    }
  }
  return { el, refresh };
}
