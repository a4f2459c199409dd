// The interface's words in English and Bahasa Indonesia. Each page's
// strings live in js/lang/<page>.js as {en: {...}, id: {...}}; a page
// registers them, then elements marked data-i18n="key" (text),
// data-i18n-label="key" (aria-label), data-i18n-placeholder="key" and
// data-i18n-title="key" are filled in, and filled again on a switch.

export const LANGUAGES = { en: "English", id: "Bahasa Indonesia" };
const STORAGE_KEY = "smeeton.language";

/** @type {Record<string, Record<string, string>>} */
const strings = { en: {}, id: {} };
let current = chooseLanguage();

/** @returns {string} "en" or "id": the saved choice, else the browser's. */
function chooseLanguage() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && saved in LANGUAGES) return saved;
  for (const tag of navigator.languages || [navigator.language]) {
    const base = (tag || "").toLowerCase().split("-")[0];
    if (base === "id" || base === "in" || base === "ms") return "id";
    if (base === "en") return "en";
  }
  return "en";
}

/** @param {Record<string, Record<string, string>>} table */
export function register(table) {
  for (const language of Object.keys(LANGUAGES)) {
    Object.assign(strings[language], table[language] || {});
  }
}

/** @returns {string} */
export function language() {
  return current;
}

/**
 * The text for a key in the current language, English when missing, with
 * {name} placeholders filled from params.
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const text = strings[current][key] ?? strings.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? String(params[name]) : whole);
}

/**
 * Fill every marked element under root.
 * @param {ParentNode} [root]
 */
export function translate(root = document) {
  document.documentElement.lang = current;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(/** @type {HTMLElement} */ (element)
      .dataset.i18n || "");
  }
  const attributes = [["i18nLabel", "aria-label"],
    ["i18nPlaceholder", "placeholder"], ["i18nTitle", "title"]];
  for (const [data, attribute] of attributes) {
    const selector = `[data-${data.replace(/[A-Z]/g,
      (c) => "-" + c.toLowerCase())}]`;
    for (const element of root.querySelectorAll(selector)) {
      const key = /** @type {HTMLElement} */ (element).dataset[data] || "";
      element.setAttribute(attribute, t(key));
    }
  }
}

/**
 * Switch language, remember the choice, refill the page.
 * @param {string} next
 */
export function setLanguage(next) {
  if (!(next in LANGUAGES)) return;
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  translate();
  document.dispatchEvent(new CustomEvent("languagechange"));
}

/**
 * A <select> that switches the language, for a page's header.
 * @returns {HTMLSelectElement}
 */
export function languagePicker() {
  const select = document.createElement("select");
  select.dataset.i18nLabel = "language";
  for (const [code, name] of Object.entries(LANGUAGES)) {
    select.append(new Option(name, code, false, code === current));
  }
  select.addEventListener("change", () => setLanguage(select.value));
  return select;
}

register({
  en: { language: "Language" },
  id: { language: "Bahasa" },
});
