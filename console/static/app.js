// @ts-check
// The console shell: login, the top bar, hash routing, the keyboard, and the live feed
// that keeps the shared state (state.js) current. Each view is a module with
// mount(root, params, query) → {unmount(), onKey(key) → handled?}.

import { clearSession, currentUser, get, post, saveSession, setUnauthorizedHandler, token } from "./api.js";
import { dialogOpen, showHelp, toast } from "./dialogs.js";
import { fmtTime, h, levelName, setText, subjectOf, svg } from "./dom.js";
import { getLang, onLangChange, setLang, t } from "./i18n.js";
import { LiveFeed } from "./live.js";
import * as dashboard from "./dashboard.js";
import * as detail from "./detail.js";
import * as mapview from "./mapview.js";
import * as queue from "./queue.js";
import * as search from "./search.js";
import * as sound from "./sound.js";
import * as state from "./state.js";
import * as trajectory from "./trajectory.js";
import * as users from "./users.js";
import * as wall from "./wall.js";
import * as watchlists from "./watchlists.js";

const ROUTES = {
  queue: { view: queue, nav: "queue" },
  alert: { view: detail, nav: "queue" },
  wall: { view: wall, nav: "wall" },
  map: { view: mapview, nav: "map" },
  trajectory: { view: trajectory, nav: "trajectory" },
  dashboard: { view: dashboard, nav: "dashboard" },
  search: { view: search, nav: "search" },
  watchlists: { view: watchlists, nav: "watchlists", admin: true },
  users: { view: users, nav: "users", admin: true },
};
const NAV = ["queue", "wall", "map", "trajectory", "dashboard", "search", "watchlists", "users"];

let user = null;
let current = null; // {name, handle}
let feed = null;
let needList = true;
let lastConn = { state: "connecting" };
const el = {};

// ---------- login ----------

function showLogin(message) {
  stopSession();
  const name = h("input", { id: "login-user", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "login-pass", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "form-error", role: "alert", id: "login-error" }, message || "");
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-wide" }, t("login.submit"));
  const form = h("form", { class: "login-card", "aria-labelledby": "login-title" },
    h("div", { class: "brand brand-login" }, h("span", { class: "brand-mark", "aria-hidden": "true" }),
      h("span", { class: "brand-name" }, t("app.brand")), h("span", { class: "brand-sub" }, t("app.subtitle"))),
    h("h1", { id: "login-title" }, t("login.title")),
    h("label", { for: "login-user" }, t("login.username")), name,
    h("label", { for: "login-pass" }, t("login.password")), pass,
    error, submit,
    h("button", { type: "button", class: "btn btn-ghost", "aria-label": t("lang.switch.label"),
      onclick: () => switchLang() }, t("lang.switch")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    sound.unlock(); // a click/Enter here is the gesture browsers need before playing audio
    submit.disabled = true;
    setText(submit, t("login.busy"));
    try {
      const res = await post("/api/login", { username: name.value.trim(), password: pass.value });
      saveSession(res.token, res.user);
      startSession(res.user);
    } catch (err) {
      error.textContent = err.status === 401 || err.status === 403 ? t("login.failed")
        : err.status === 429 ? t("login.throttled") : t("login.error", { msg: err.message });
      submit.disabled = false;
      setText(submit, t("login.submit"));
      pass.select();
    }
  });
  document.body.replaceChildren(h("main", { class: "login", id: "main" }, form), toasts());
  name.focus();
}

function toasts() {
  return h("div", { id: "toasts", class: "toasts", "aria-live": "polite" });
}

// ---------- shell ----------

function buildShell() {
  el.nav = h("nav", { class: "nav", "aria-label": t("nav.label") },
    NAV.filter((n) => !ROUTES[n].admin || watchlists.canManage(user)).map((n, i) =>
      h("a", { href: `#/${n}`, class: "nav-link", dataset: { nav: n }, "aria-keyshortcuts": String(i + 1) },
        t(`nav.${n}`), n === "queue" ? h("span", { class: "nav-count", id: "new-count" }) : null)));
  el.conn = h("span", { class: "conn conn-connecting", id: "conn", role: "status", "aria-live": "polite" },
    h("i", { class: "conn-dot", "aria-hidden": "true" }), h("span", { class: "conn-text" }, t("conn.connecting")));
  el.clock = h("time", { class: "clock", id: "clock" });
  el.sound = h("button", { type: "button", class: "btn btn-ghost", id: "sound", "aria-label": t("sound.label"),
    "aria-keyshortcuts": "M", onclick: () => sound.toggleMuted() });
  el.main = h("main", { id: "main", class: "main", tabindex: "-1" });
  el.announce = h("div", { class: "sr-only", "aria-live": "assertive", id: "announce" });
  const header = h("header", { class: "topbar" },
    h("div", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }),
      h("span", { class: "brand-name" }, t("app.brand")), h("span", { class: "brand-sub" }, t("app.subtitle"))),
    el.nav, h("div", { class: "topbar-right" }, el.clock, el.conn, el.sound,
      h("button", { type: "button", class: "btn btn-ghost", id: "lang", "aria-label": t("lang.switch.label"),
        onclick: () => switchLang() }, t("lang.switch")),
      h("span", { class: "who", title: user.username },
        h("span", { class: "who-name" }, user.display_name || user.username),
        h("span", { class: "who-role" }, t(`role.${user.role}`))),
      h("button", { type: "button", class: "btn btn-ghost", id: "logout", onclick: logout }, t("logout"))));
  document.body.replaceChildren(
    h("a", { class: "skip", href: "#main", onclick: (ev) => { ev.preventDefault(); el.main.focus(); } }, "↓"),
    header, el.main, el.announce, toasts());
  renderSound();
  renderCounts();
  setText(el.clock, fmtTime(state.serverNow()));
  setConn(lastConn); // a rebuilt top bar (language switch) shows the feed as it is
}

function speakerIcon(on) {
  return svg("svg", { viewBox: "0 0 24 24", "aria-hidden": "true", fill: "none", stroke: "currentColor",
    "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round" },
  svg("path", { d: "M4 9h4l5-4v14l-5-4H4z", fill: "currentColor" }),
  on ? svg("path", { d: "M16.5 8.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12" })
    : svg("path", { d: "M16 9l6 6M22 9l-6 6" }));
}

function renderSound() {
  const st = sound.soundState();
  el.sound.className = `btn btn-ghost sound-${st}`;
  el.sound.dataset.sound = st;
  el.sound.setAttribute("aria-pressed", String(st !== "off"));
  el.sound.title = t("sound.label");
  el.sound.replaceChildren(speakerIcon(st !== "off"), h("span", {}, t(`sound.${st}`)));
}

function renderCounts() {
  const n = state.listAlerts("open").filter((a) => a.state === "new").length;
  const badge = document.getElementById("new-count");
  if (badge) {
    setText(badge, n ? String(n) : "");
    badge.classList.toggle("nav-count-hot", n > 0);
  }
  document.title = n ? `(${n}) ${t("app.title")}` : t("app.title");
}

function setConn(st) {
  lastConn = st;
  if (!el.conn) return;
  if (st.state === "unauthorized") {
    showLogin(t("login.expired"));
    return;
  }
  const text = st.state === "open" ? t("conn.open") : st.state === "retry"
    ? t("conn.retry", { s: Math.ceil(st.retryIn / 1000) }) : t("conn.connecting");
  el.conn.className = `conn conn-${st.state}`;
  el.conn.dataset.state = st.state;
  setText(el.conn.lastChild, text);
}

// ---------- routing ----------

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  const [name, ...params] = path.split("/").filter(Boolean);
  return { name: ROUTES[name] ? name : "queue", params, query: new URLSearchParams(qs || "") };
}

function route() {
  if (!user) return;
  const { name, params, query } = parseHash();
  if (current) current.handle.unmount();
  el.main.replaceChildren();
  el.main.className = `main view-${name}`;
  current = { name, handle: ROUTES[name].view.mount(el.main, params, query) };
  el.nav.querySelectorAll(".nav-link").forEach((a) => {
    if (a.dataset.nav === ROUTES[name].nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
}

// ---------- keyboard ----------

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable
    || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function onKeyDown(ev) {
  sound.unlock();
  if (!user || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (dialogOpen() || document.querySelector("dialog[open]")) return;
  if (typing(ev.target)) {
    // Esc leaves a text field, so the keys work again (the trajectory view's plate field
    // kept them all); a second Esc then leaves the view as everywhere else.
    if (ev.key === "Escape") {
      ev.target.blur();
      ev.preventDefault();
    }
    return;
  }
  const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
  const control = ev.target instanceof Element && ev.target.closest("button, a, [role=button], li[tabindex]");
  if ((key === "Enter" || key === " ") && control) return; // let the focused control act
  let handled = true;
  if (ev.key === "?") showHelp();
  else if (key === "m") sound.toggleMuted();
  else if (/^[1-9]$/.test(key) && el.nav.children[Number(key) - 1]) {
    location.hash = el.nav.children[Number(key) - 1].getAttribute("href");
  } else if (current && current.handle.onKey(key, ev)) handled = true;
  else if (key === "Escape" && current && current.name !== "queue") location.hash = "#/queue";
  else handled = false;
  if (handled) ev.preventDefault();
}

// ---------- live feed ----------

function onEvent(env) {
  const d = env.data || {};
  switch (env.kind) {
    case "hello":
      if (typeof d.last_id === "number") feed.seed(d.last_id);
      if (needList) {
        needList = false; // read the list only after the feed has its position: no gap
        loadAlerts();
      }
      break;
    case "ping":
      state.setServerTime(d.at);
      break;
    case "alert": {
      const before = state.getAlert(d.alert_id);
      const a = state.upsertAlert(d, { fresh: true });
      if (a && !before && a.state === "new") {
        sound.chime(a.level);
        setText(el.announce, t("new.alert", { level: levelName(a.level), what: subjectOf(a) }));
      }
      break;
    }
    case "transition":
    case "escalation":
    case "reassign": // the holder changed (改派 / 交班): same data shape
    case "handover":
    case "dispatch": {
      const a = state.applyAlertEvent(env.kind, d);
      if (a && env.kind === "escalation" && a.state === "new") {
        toast(`⟰ ${levelName(a.level)} ${subjectOf(a)} — ${t("sla.overdue")}`, "warn", 6000);
      }
      break;
    }
    case "camera":
      state.updateCamera(d);
      break;
    default:
      break;
  }
}

function onStatus(st) {
  if (st.state === "open") needList = true; // re-read the list after the coming hello
  setConn(st);
}

/**
 * The alert list and cameras from REST. Called after each (re)connection's hello, so the
 * live feed already covers everything after the list; alerts the feed delivered meanwhile
 * keep the feed's (newer) copy.
 */
async function loadAlerts() {
  try {
    // the newest 500 of any state, and every open alert (a shift's open work may be older)
    const open = "state=new&state=signed&state=disposing&state=feedback&limit=500";
    const [alerts, opened, cameras] = await Promise.all([get("/api/alerts?limit=500"),
      get(`/api/alerts?${open}`), get("/api/cameras")]);
    const list = Array.isArray(alerts) ? alerts : alerts.items || alerts.alerts || [];
    state.setAlerts([...list, ...(opened.items || [])], { preferExisting: true });
    state.setCameras(Array.isArray(cameras) ? cameras : cameras.items || cameras.cameras || []);
  } catch (err) {
    if (err.status !== 401) toast(t("act.failed", { msg: err.message }), "error");
  }
}

// ---------- session ----------

function startSession(u) {
  user = u;
  lastConn = { state: "connecting" };
  buildShell();
  feed = new LiveFeed(token, onEvent, onStatus);
  needList = true;
  feed.start();
  setTimeout(() => {
    if (needList && user === u) loadAlerts(); // the feed is slow to come up: show the list anyway
  }, 3000);
  route();
}

function stopSession() {
  if (current) current.handle.unmount();
  current = null;
  if (feed) feed.stop();
  feed = null;
  user = null;
  state.clearAll();
}

function logout() {
  if (feed) feed.forget();
  post("/api/logout").catch(() => {}); // ends the session server-side; sent with the token
  clearSession();
  showLogin("");
}

function switchLang() {
  setLang(getLang() === "zh" ? "en" : "zh");
}

onLangChange(() => {
  if (user) {
    buildShell();
    route();
  } else {
    showLogin("");
  }
});

async function boot() {
  setLang(getLang());
  setUnauthorizedHandler(() => {
    if (user) {
      clearSession();
      showLogin(t("login.expired"));
    }
  });
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("pointerdown", () => sound.unlock(), { passive: true });
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => feed && feed.reconnectNow());
  sound.onSoundChange(() => el.sound && renderSound());
  state.subscribe((c) => {
    if (c.type === "alert" || c.type === "reset") renderCounts();
  });
  setInterval(() => el.clock && setText(el.clock, fmtTime(state.serverNow())), 1000);
  if (!token()) {
    showLogin("");
    return;
  }
  try {
    const me = await get("/api/me");
    const u = me.user || me;
    saveSession(token(), u);
    startSession(u);
  } catch (err) {
    if (err.status === 401) showLogin(t("login.expired"));
    else if (currentUser()) startSession(currentUser());
    else showLogin(t("login.error", { msg: err.message }));
  }
}

boot();
