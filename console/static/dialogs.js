// @ts-check
// Modal questions (feedback result, dismiss reason), the help overlay and toasts.
// Dialogs use the native <dialog> element: it traps focus, closes on Esc and returns focus
// to where it was. Toasts float over the page, so nothing moves when one appears.

import { h } from "./dom.js";
import { t } from "./i18n.js";

export const FEEDBACK_RESULTS = ["caught", "not_found", "handed_over", "false_alarm", "other"];

let openDialog = null;

export function dialogOpen() {
  return openDialog !== null;
}

/** Show a form dialog; resolves with read(form) on submit or null on cancel/Esc. */
export function ask(title, fields, read, validate) {
  return new Promise((resolve) => {
    const error = h("p", { class: "form-error", role: "alert" });
    const form = h("form", { method: "dialog", class: "dialog-form" },
      h("h2", { id: "dlg-title" }, title),
      fields,
      error,
      h("div", { class: "dialog-buttons" },
        h("button", { type: "button", class: "btn", value: "cancel", onclick: () => finish(null) },
          t("dlg.cancel")),
        h("button", { type: "submit", class: "btn btn-primary", value: "ok" }, t("dlg.ok"))));
    const dlg = h("dialog", { class: "dialog", "aria-labelledby": "dlg-title" }, form);
    const previous = /** @type {HTMLElement | null} */ (document.activeElement);
    let done = false;
    function finish(value) {
      if (done) return;
      done = true;
      openDialog = null;
      dlg.close();
      dlg.remove();
      if (previous && previous.focus) previous.focus({ preventScroll: true });
      resolve(value);
    }
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = read(form);
      const problem = validate ? validate(value) : null;
      if (problem) {
        error.textContent = problem;
        return;
      }
      finish(value);
    });
    dlg.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      finish(null);
    });
    document.body.append(dlg);
    openDialog = dlg;
    dlg.showModal();
    const first = /** @type {HTMLElement | null} */ (dlg.querySelector("select, textarea, input"));
    if (first) first.focus();
  });
}

export function askFeedback() {
  // No result is preselected: a careless Enter must not record "caught" (已查获).
  const select = h("select", { name: "result", id: "fb-result", "aria-required": "true" },
    h("option", { value: "", selected: true, disabled: true }, t("fb.choose")),
    FEEDBACK_RESULTS.map((r) => h("option", { value: r }, t(`fb.r.${r}`))));
  const note = h("textarea", { name: "note", id: "fb-note", rows: 3 });
  return ask(t("fb.title"), [
    h("label", { for: "fb-result" }, t("fb.result")), select,
    h("label", { for: "fb-note" }, t("fb.note")), note,
  ], () => ({ result: select.value, note: note.value.trim() }),
  (v) => (v.result ? null : t("fb.required")));
}

/** A required free-text reason (dismiss, withdraw). Resolves with the text or null. */
export function askReason(title, label) {
  const input = h("textarea", { name: "reason", id: "dlg-reason", rows: 3, "aria-required": "true" });
  return ask(title, [h("label", { for: "dlg-reason" }, label), input],
    () => input.value.trim(), (v) => (v ? null : t("dismiss.required")));
}

const HELP_KEYS = [
  ["J", "help.j"], ["K", "help.k"], ["Enter", "help.enter"], ["S", "help.s"],
  ["D", "help.d"], ["F", "help.f"], ["C", "help.c"], ["X", "help.x"], ["R", "help.r"],
  ["Space", "help.space"], ["A", "help.a"], ["/", "help.slash"], ["M", "help.m"],
  ["1–8", "help.digits"], ["?", "help.help"], ["Esc", "help.esc"],
];

export function showHelp() {
  if (openDialog) return;
  const rows = HELP_KEYS.map(([key, label]) =>
    h("tr", {}, h("th", { scope: "row" }, h("kbd", {}, key)), h("td", {}, t(label))));
  const close = h("button", { type: "button", class: "btn" }, t("help.close"));
  const dlg = h("dialog", { class: "dialog help", "aria-labelledby": "help-title", id: "help" },
    h("h2", { id: "help-title" }, t("help.title")),
    h("table", { class: "keys" }, h("tbody", {}, rows)),
    h("div", { class: "dialog-buttons" }, close));
  const finish = () => {
    openDialog = null;
    dlg.close();
    dlg.remove();
  };
  close.addEventListener("click", finish);
  dlg.addEventListener("cancel", (ev) => {
    ev.preventDefault();
    finish();
  });
  document.body.append(dlg);
  openDialog = dlg;
  dlg.showModal();
  close.focus();
}

/** A short message in the corner; kind: info | ok | warn | error. */
export function toast(message, kind = "info", ms = 4000) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    message);
  box.append(el);
  while (box.children.length > 4) box.firstChild.remove();
  setTimeout(() => el.remove(), ms);
}
