// @ts-check
// Every string the console shows, in one place: zh-CN (default) and English.
// t("key", {name: value}) fills {name} placeholders; an unknown key shows itself so a
// missing translation is visible instead of blank.

import { EN } from "./i18n_en.js";
import { EN_MORE } from "./i18n_en_more.js";
import { ZH } from "./i18n_zh.js";
import { ZH_MORE } from "./i18n_zh_more.js";

// One file per language (and topic), merged here; the key-parity test sees one dictionary.
const DICT = { zh: { ...ZH, ...ZH_MORE }, en: { ...EN, ...EN_MORE } };

const LANG_KEY = "vigil.lang";
let lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
const listeners = new Set();

export function t(key, vars) {
  let text = DICT[lang][key] ?? DICT.zh[key] ?? key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  }
  return text;
}

/** The translation if the key exists, else the fallback (for open sets such as categories). */
export function tOr(key, fallback) {
  return key in DICT[lang] ? DICT[lang][key] : fallback;
}

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = next === "en" ? "en" : "zh";
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  document.title = t("app.title");
  listeners.forEach((fn) => fn(lang));
}

export function onLangChange(fn) {
  listeners.add(fn);
}

export function locale() {
  return lang === "en" ? "en-GB" : "zh-CN";
}

export const KEYS = { zh: Object.keys(DICT.zh), en: Object.keys(DICT.en) };
