// Public and private chat: the room's history for late joiners, a recipient
// picker ("Everyone" or one participant), and a count of unread messages.

import { language, t } from "./i18n.js";
import { byId, el } from "./widgets.js";

/**
 * @typedef {import("./protocol.js").ChatMessage} ChatMessage
 * @typedef {import("./protocol.js").MeetingConnection} MeetingConnection
 */

export class Chat {
  /**
   * @param {MeetingConnection} connection
   * @param {(unread: number) => void} onUnread
   */
  constructor(connection, onUnread) {
    this.connection = connection;
    this.onUnread = onUnread;
    this.log = byId("chat-log");
    this.form = /** @type {HTMLFormElement} */ (byId("chat-form"));
    this.text = /** @type {HTMLInputElement} */ (byId("chat-text"));
    this.to = /** @type {HTMLSelectElement} */ (byId("chat-to"));
    this.panel = byId("chat-panel");
    /** @type {Set<string>} */
    this.seen = new Set();
    /** @type {Map<string, string>} id -> name */
    this.names = new Map();
    this.unread = 0;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._send();
    });
    document.addEventListener("languagechange", () => {
      this._recipients();
      this.onUnread(this.unread);
    });
  }

  /** @param {ChatMessage[]} history the room's public messages */
  setHistory(history) {
    for (const message of history) this.add(message, false);
  }

  /**
   * @param {ChatMessage} message
   * @param {boolean} [fresh] counted as unread when the panel is closed
   */
  add(message, fresh = true) {
    if (message.id && this.seen.has(message.id)) return;
    if (message.id) this.seen.add(message.id);
    const mine = message.from_id === this.connection.participantId;
    const meta = [el("strong", {}, mine ? t("you") : message.from_name)];
    if (message.to) {
      const other = mine ? this.names.get(message.to) || "" : "";
      meta.push(el("span", { className: "private-note" },
        mine ? t("privatelyTo", { name: other }) : t("privately")));
    }
    const time = new Date(message.time * 1000);
    meta.push(el("time", { dateTime: time.toISOString() },
      time.toLocaleTimeString(language(), { hour: "2-digit",
        minute: "2-digit" })));
    const item = el("li", { className: "message" + (message.to ?
      " private" : "") + (mine ? " mine" : "") },
    el("div", { className: "meta" }, ...meta),
    el("p", { className: "text" }, message.text));
    this.log.append(item);
    item.scrollIntoView({ block: "end" });
    if (fresh && !mine && this.panel.hidden) {
      this.unread += 1;
      this.onUnread(this.unread);
    }
  }

  /** The panel was opened: everything is read. */
  markRead() {
    this.unread = 0;
    this.onUnread(0);
  }

  /**
   * Who can be written to privately.
   * @param {Map<string, string>} names participant id -> name, not us
   */
  setParticipants(names) {
    this.names = names;
    this._recipients();
  }

  _recipients() {
    const chosen = this.to.value;
    this.to.replaceChildren(new Option(t("everyone"), ""));
    for (const [id, name] of this.names) {
      this.to.append(new Option(name, id, false, id === chosen));
    }
    if (chosen && !this.names.has(chosen)) {
      this.to.value = "";
    }
  }

  _send() {
    const text = this.text.value.trim();
    if (!text) return;
    this.connection.chat(text.slice(0, 2000), this.to.value || undefined);
    this.text.value = "";
    this.text.focus();
  }
}
