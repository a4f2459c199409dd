// What moderators see besides the participant list: people waiting in the
// lobby (with a beep and a count), mute all, lock, and ending the meeting.

import { t } from "./i18n.js";
import { announce, byId, confirmAction, el } from "./widgets.js";

/** @typedef {import("./protocol.js").MeetingConnection} MeetingConnection */

export class Moderation {
  /**
   * @param {MeetingConnection} connection
   * @param {(waiting: number) => void} onWaiting
   */
  constructor(connection, onWaiting) {
    this.connection = connection;
    this.onWaiting = onWaiting;
    this.controls = byId("moderator-controls");
    this.lobbyPanel = byId("lobby-panel");
    this.lobbyList = byId("lobby-list");
    this.lockButton = byId("lock");
    /** @type {{id: string, name: string}[]} */
    this.waiting = [];
    this.locked = false;
    /** @type {AudioContext | null} */
    this.audio = null;

    byId("mute-all").addEventListener("click", () => {
      connection.mute();
      announce(t("mutedEveryone"));
    });
    this.lockButton.addEventListener("click", () => {
      connection.lock(!this.locked);
    });
    byId("end-meeting").addEventListener("click", async () => {
      if (await confirmAction(t("endQuestion"), t("endMeeting"))) {
        connection.endMeeting();
      }
    });
    document.addEventListener("languagechange", () => this.render());
  }

  /** Show or hide everything here by our role. */
  render() {
    const moderator = this.connection.isModerator;
    this.controls.hidden = !moderator;
    this.lobbyPanel.hidden = !moderator || this.waiting.length === 0;
    this.lockButton.textContent = t(this.locked ? "unlockMeeting"
      : "lockMeeting");
    this.lockButton.setAttribute("aria-pressed", String(this.locked));
    byId("lock-state").hidden = !this.locked;
    byId("lobby-title").textContent = t("lobbyCount",
      { count: this.waiting.length });
    this.lobbyList.replaceChildren(...this.waiting.map(
      (person) => this._item(person)));
    this.onWaiting(moderator ? this.waiting.length : 0);
  }

  /** @param {boolean} locked */
  setLocked(locked) {
    this.locked = locked;
    this.render();
  }

  /** @param {{id: string, name: string}[]} waiting */
  setWaiting(waiting) {
    const before = new Set(this.waiting.map((person) => person.id));
    const arrived = waiting.filter((person) => !before.has(person.id));
    this.waiting = waiting;
    this.render();
    if (arrived.length > 0 && this.connection.isModerator) {
      this._beep();
      announce(t("lobbyArrived", { name: arrived.map((p) => p.name)
        .join(", ") }));
    }
  }

  /** @param {{id: string, name: string}} person */
  _item(person) {
    const c = this.connection;
    const { id, name } = person;
    return el("li", { className: "person", dataset: { lobbyId: id } },
      el("div", { className: "who" },
        el("span", { className: "person-name" }, name)),
      el("div", { className: "person-actions" },
        el("button", { type: "button", className: "primary",
          "aria-label": t("admitName", { name }),
          onclick: () => c.admit(id) }, t("admit")),
        el("button", { type: "button", className: "danger",
          "aria-label": t("denyName", { name }),
          onclick: () => c.deny(id) }, t("deny"))));
  }

  /** Two short tones, so a moderator notices someone knocking. */
  _beep() {
    try {
      if (!this.audio) this.audio = new AudioContext();
      const audio = this.audio;
      audio.resume();
      for (const [start, pitch] of [[0, 660], [0.18, 880]]) {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = pitch;
        const at = audio.currentTime + start;
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
        tone.connect(gain).connect(audio.destination);
        tone.start(at);
        tone.stop(at + 0.16);
      }
    } catch {
      // No audio output: the count and the announcement still tell.
    }
  }
}
