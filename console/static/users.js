// @ts-check
// 用户管理, administrators only: list console users, add one, change a role, disable or
// enable, reset a password, and their API tokens (tokens.js) — over the admin users API
// (docs/console-api.md, "Session and people"). The server decides and audits; this page
// only asks. An administrator cannot disable or demote themselves here, so a centre is
// never left without one by a slip.

import { ApiError, currentUser, get, request } from "./api.js";
import { ask, toast } from "./dialogs.js";
import { clear, fmtDateTime, h, setText } from "./dom.js";
import { t, tOr } from "./i18n.js";
import { problemLines } from "./problems.js";
import { newToken, tokenPanel } from "./tokens.js";

const ROLES = ["monitor", "dispatcher", "supervisor", "admin"];
const MIN_PASSWORD = 8; // console/users.py

export const canManage = (user) => Boolean(user && user.role === "admin");

const roleName = (role) => tOr(`role.${role}`, role);

function noPermission(root) {
  root.append(h("div", { class: "notice notice-deny", role: "alert", id: "no-permission" },
    h("h1", {}, t("wl.noperm")), h("p", {}, t("users.noperm.detail")),
    h("a", { class: "btn", href: "#/queue" }, "← ", t("act.back"))));
}

function lines(err) {
  const found = err instanceof ApiError && err.status === 422 ? problemLines(err.body) : [];
  return found.length ? found : [err.status ? err.message : t("err.network")];
}

function field(id, label, input) {
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

function roleSelect(id, value, attrs = {}) {
  return h("select", { id, name: "role", ...attrs },
    ROLES.map((r) => h("option", { value: r, selected: r === value }, roleName(r))));
}

function addForm(onDone) {
  const username = h("input", { id: "us-username", name: "username", required: true, autocomplete: "off",
    maxlength: 64, pattern: "[A-Za-z0-9_.@\\-]{1,64}" });
  const display = h("input", { id: "us-display", name: "display_name", autocomplete: "off", maxlength: 128 });
  const role = roleSelect("us-role", "monitor");
  const password = h("input", { id: "us-password", name: "password", type: "password", required: true,
    autocomplete: "new-password", minlength: MIN_PASSWORD });
  const errors = h("div", { class: "form-errors", role: "alert", id: "us-errors" });
  const form = h("form", { class: "panel wl-form", id: "us-add", "aria-labelledby": "us-add-title", novalidate: true },
    h("h2", { class: "panel-title", id: "us-add-title" }, t("users.add")),
    h("div", { class: "form-grid" },
      field("us-username", t("users.username"), username), field("us-display", t("users.display_name"), display),
      field("us-role", t("users.role"), role), field("us-password", t("users.password"), password)),
    errors, h("button", { type: "submit", class: "btn btn-primary" }, t("users.submit")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); // the server checks every field and says what is wrong (in our words)
    errors.replaceChildren();
    const body = { username: username.value.trim(), password: password.value, role: role.value,
      display_name: display.value.trim() || undefined };
    try {
      await request("POST", "/api/users", { json: body });
      toast(t("users.added", { name: body.username }), "ok");
      form.reset();
      onDone();
    } catch (err) {
      errors.replaceChildren(h("p", {}, t("wl.errors")), h("ul", {}, lines(err).map((p) => h("li", {}, p))));
    }
  });
  return form;
}

async function patch(user, change, done) {
  try {
    await request("PATCH", `/api/users/${encodeURIComponent(user.username)}`, { json: change });
    toast(done, "ok", 3000);
    return true;
  } catch (err) {
    toast(t("act.failed", { msg: lines(err).join("；") }), "error", 7000);
    return false;
  }
}

async function resetPassword(user) {
  const name = user.display_name || user.username;
  const input = h("input", { id: "us-newpass", name: "password", type: "password", autocomplete: "new-password" });
  const password = await ask(t("users.reset.title", { name }), [
    h("p", { class: "muted" }, t("users.reset.note")),
    h("label", { for: "us-newpass" }, t("users.reset.new")), input,
  ], () => input.value, (v) => (v.length >= MIN_PASSWORD ? null : t("users.pw.short")));
  return password ? patch(user, { password }, t("users.reset.done", { name })) : false;
}

async function toggleDisabled(user) {
  const name = user.display_name || user.username;
  if (user.disabled) return patch(user, { disabled: false }, t("users.enabled.done", { name }));
  const sure = await ask(t("users.disable.title", { name }), [h("p", {}, t("users.disable.body"))], () => true);
  return sure ? patch(user, { disabled: true }, t("users.disabled.done", { name })) : false;
}

/** One user: role picker, state, disable/enable, reset (not disable/demote oneself), and a
 * new API token for them. */
function userRow(u, me, reload, onToken) {
  const self = u.username === me;
  const name = u.display_name || u.username;
  const role = roleSelect(`us-role-${u.username}`, u.role, { disabled: self,
    "aria-label": t("users.role.label", { name }) });
  role.addEventListener("change", async () => {
    await patch(u, { role: role.value }, t("users.role.done", { name, role: roleName(role.value) }));
    reload(); // on a refusal too: the select goes back to the stored role
  });
  const act = (fn) => async () => {
    if (await fn(u)) reload();
  };
  return h("tr", { dataset: { username: u.username, disabled: String(Boolean(u.disabled)) } },
    h("td", { class: "us-name" }, u.username, self ? h("span", { class: "muted" }, ` (${t("users.you")})`) : null),
    h("td", {}, u.display_name || ""),
    h("td", {}, role),
    h("td", {}, h("span", { class: `state ${u.disabled ? "user-off" : "user-on"}` },
      u.disabled ? t("users.off") : t("users.active"))),
    h("td", {}, u.updated_at ? fmtDateTime(u.updated_at) : "—"),
    h("td", {}, h("div", { class: "row-actions" },
      self ? null : h("button", { type: "button", class: "btn btn-small us-toggle", onclick: act(toggleDisabled) },
        u.disabled ? t("users.enable") : t("users.disable")),
      h("button", { type: "button", class: "btn btn-small us-reset", onclick: act(resetPassword) }, t("users.reset")),
      u.disabled ? null : h("button", { type: "button", class: "btn btn-small us-token", onclick: () => onToken(u.username),
        "aria-label": t("tok.new.for", { name }) }, t("tok.new")))));
}

function usersTable() {
  const tbody = h("tbody");
  const table = h("table", { class: "table", id: "us-table" },
    h("caption", { class: "sr-only" }, t("users.list")),
    h("thead", {}, h("tr", {}, [t("users.username"), t("users.display_name"), t("users.role"),
      t("users.state"), t("users.updated"), t("users.actions")].map((c) => h("th", { scope: "col" }, c)))), tbody);
  return { table, tbody };
}

export function mount(root) {
  if (!canManage(currentUser())) {
    noPermission(root);
    return { unmount: () => clear(root), onKey: () => false };
  }
  const me = currentUser().username;
  const { table, tbody } = usersTable();
  const count = h("span", { class: "view-count" });
  let alive = true;
  let users = [];
  const reload = () => alive && load();
  const onToken = async (username) => {
    if (await newToken(users, username, lines)) reload();
  };
  const tokens = tokenPanel(onToken);
  root.append(h("div", { class: "view-head" }, h("h1", {}, t("users.title")), count),
    h("div", { class: "wl-layout" }, addForm(load),
      h("section", { class: "panel wl-list" }, h("h2", { class: "panel-title" }, t("users.list")), table),
      tokens.el));

  async function load() {
    try {
      const list = await get("/api/users");
      if (!alive) return;
      list.sort((a, b) => Number(a.disabled) - Number(b.disabled) || a.username.localeCompare(b.username));
      users = list;
      setText(count, t("users.count", { n: list.length }));
      tbody.replaceChildren(...(list.length ? list.map((u) => userRow(u, me, reload, onToken))
        : [h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("users.empty")))]));
      tokens.refresh(list, reload); // a user disabled or enabled changes their tokens' state
    } catch (err) {
      if (!alive) return;
      if (err.status === 403) {
        clear(root);
        noPermission(root);
      } else {
        tbody.replaceChildren(h("tr", {}, h("td", { colspan: 6 }, t("act.failed", { msg: err.message }))));
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
