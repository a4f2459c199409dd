// Small helpers the meeting page's modules share: building elements,
// icons, announcing to screen readers, and a confirmation dialog.

import { t } from "./i18n.js";

/**
 * An element with properties (dataset and aria-* included) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {(Node | string)[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("aria-") || key === "role") {
      element.setAttribute(key, String(value));
    } else /** @type {any} */ (element)[key] = value;
  }
  element.append(...children);
  return element;
}

/**
 * The element with an id, which the page is known to have.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

// Stroke icons on a 24-unit grid.
const ICONS = {
  microphone: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3z" +
    "M19 11a7 7 0 0 1-14 0M12 18v3M8 21h8",
  camera: "M3 7h12v10H3zM15 10l6-3v10l-6-3z",
  screen: "M3 4h18v12H3zM8 20h8M12 16v4",
  hand: "M8 12V5.5a1.5 1.5 0 0 1 3 0V11M11 10V4a1.5 1.5 0 0 1 3 0v6" +
    "M14 10V5.5a1.5 1.5 0 0 1 3 0V11M17 11V8.5a1.5 1.5 0 0 1 3 0V14" +
    "a7 7 0 0 1-7 7h-1a6 6 0 0 1-5-2.7l-3-4.6a1.5 1.5 0 0 1 2.4-1.8L8 14",
  smile: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM8 14s1.5 2 4 2 4-2 4-2" +
    "M9 9.5h.01M15 9.5h.01",
  people: "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21v-1a6 6 0 0 1 6-6h2" +
    "a6 6 0 0 1 6 6v1M16 3.5a4 4 0 0 1 0 7.5M22 21v-1a6 6 0 0 0-4-5.6",
  chat: "M21 15a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
  leave: "M10 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h5M16 17l5-5-5-5M21 12H9",
  slash: "M3 3l18 18",
};

/**
 * An inline SVG icon, hidden from assistive technology.
 * @param {keyof ICONS} name
 * @returns {SVGSVGElement}
 */
export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  if (name !== "slash") {
    const slash = document.createElementNS(ns, "path");
    slash.setAttribute("d", ICONS.slash);
    slash.setAttribute("class", "off-slash");
    svg.append(slash);
  }
  return svg;
}

/** Put an icon in front of every element marked data-icon under root. */
export function addIcons(root = document) {
  for (const element of root.querySelectorAll("[data-icon]")) {
    const name = /** @type {HTMLElement} */ (element).dataset.icon;
    if (name && name in ICONS && !element.querySelector("svg")) {
      element.prepend(icon(/** @type {keyof ICONS} */ (name)));
    }
  }
}

/**
 * Tell screen reader users something without moving their focus.
 * @param {string} text
 */
export function announce(text) {
  const region = byId("announcer");
  region.textContent = "";
  // A fresh text node after a tick is read even when the text repeats.
  setTimeout(() => { region.textContent = text; }, 50);
}

/**
 * A short notice on screen for a few seconds, also read out.
 * @param {string} text
 * @param {boolean} [urgent]
 */
export function notify(text, urgent = false) {
  const notices = byId("notices");
  const notice = el("p", { className: urgent ? "notice urgent" : "notice",
    role: urgent ? "alert" : "status" }, text);
  notices.append(notice);
  setTimeout(() => notice.remove(), urgent ? 8000 : 5000);
}

/**
 * Ask before something that cannot be undone.
 * @param {string} question
 * @param {string} confirmLabel
 * @returns {Promise<boolean>}
 */
export function confirmAction(question, confirmLabel) {
  const dialog = el("dialog", { className: "confirm" });
  const yes = el("button", { type: "button", className: "danger" },
    confirmLabel);
  const no = el("button", { type: "button" }, t("cancel"));
  dialog.append(el("p", {}, question), el("div", { className: "actions" },
    no, yes));
  document.body.append(dialog);
  dialog.showModal();
  no.focus();
  return new Promise((resolve) => {
    /** @param {boolean} answer */
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", () => done(false));
  });
}

/**
 * One or two letters standing for a name, for a tile without video.
 * @param {string} name
 * @returns {string}
 */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]]
    : words;
  return letters.map((word) => [...word][0] || "").join("").toUpperCase();
}
