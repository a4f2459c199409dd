// The participant list: names, roles, raised hands, media and presence,
// and for moderators the actions on each person. The server enforces the
// actions; this list only offers them to those who may use them.

import { t } from "./i18n.js";
import { byId, confirmAction, el, icon } from "./widgets.js";

/**
 * @typedef {import("./protocol.js").ParticipantInfo} ParticipantInfo
 * @typedef {import("./protocol.js").MeetingConnection} MeetingConnection
 */

export class Roster {
  /** @param {MeetingConnection} connection */
  constructor(connection) {
    this.connection = connection;
    this.list = byId("people");
    this.heading = byId("people-title");
    /** @type {Map<string, ParticipantInfo>} everyone, us included */
    this.people = new Map();
    document.addEventListener("languagechange", () => this.render());
  }

  /** @param {ParticipantInfo[]} people */
  reset(people) {
    this.people = new Map(people.map((info) => [info.id, info]));
    this.render();
  }

  /** @param {ParticipantInfo} info */
  upsert(info) {
    this.people.set(info.id, { ...this.people.get(info.id), ...info });
    this.render();
  }

  /** @param {string} id */
  remove(id) {
    this.people.delete(id);
    this.render();
  }

  /** @returns {Map<string, string>} id -> name of everyone but us */
  others() {
    const names = new Map();
    for (const [id, info] of this.people) {
      if (id !== this.connection.participantId) names.set(id, info.name);
    }
    return names;
  }

  render() {
    const me = this.connection.participantId;
    const people = [...this.people.values()].sort((a, b) =>
      Number(b.id === me) - Number(a.id === me) ||
      Number(b.hand_raised) - Number(a.hand_raised) ||
      a.name.localeCompare(b.name));
    this.heading.textContent = t("participantsCount",
      { count: people.length });
    this.list.replaceChildren(...people.map((info) => this._item(info)));
  }

  /** @param {ParticipantInfo} info */
  _item(info) {
    const self = info.id === this.connection.participantId;
    const details = [];
    if (info.role === "moderator") details.push(t("moderator"));
    if (info.away) details.push(t("away"));
    const marks = el("span", { className: "marks" });
    if (info.hand_raised) {
      marks.append(mark("hand", t("handRaised"), "hand"));
    }
    if (info.microphone === false) {
      marks.append(mark("microphone", t("microphoneOff"), "mic-off"));
    }
    if (info.camera === false) {
      marks.append(mark("camera", t("cameraOff"), "cam-off"));
    }
    const item = el("li", { className: "person",
      dataset: { participantId: info.id, role: info.role || "attendee" } },
    el("div", { className: "who" },
      el("span", { className: "person-name" },
        self ? t("youName", { name: info.name }) : info.name),
      el("span", { className: "role" }, details.join(" · "))),
    marks);
    if (this.connection.isModerator && !self) {
      item.append(this._actions(info));
    }
    return item;
  }

  /** @param {ParticipantInfo} info */
  _actions(info) {
    const c = this.connection;
    const id = info.id;
    const name = info.name;
    const actions = el("div", { className: "person-actions" });
    /**
     * @param {string} key
     * @param {() => void} run
     * @param {string} [className]
     */
    const add = (key, run, className = "") => {
      actions.append(el("button", { type: "button", className,
        "aria-label": t(key + "Name", { name }), onclick: run }, t(key)));
    };
    if (info.hand_raised) add("lowerHand", () => c.lowerHand(id));
    if (info.microphone !== false) add("mute", () => c.mute(id));
    if (info.camera !== false) add("stopCamera", () => c.stopCamera(id));
    if (info.role !== "moderator") {
      add("promote", () => c.promote(id));
    }
    add("remove", async () => {
      if (await confirmAction(t("removeQuestion", { name }), t("remove"))) {
        c.remove(id);
      }
    }, "danger");
    return actions;
  }
}

/**
 * @param {"microphone" | "camera" | "hand"} name
 * @param {string} text
 * @param {string} kind
 */
function mark(name, text, kind) {
  return el("span", { className: `mark ${kind}`, title: text },
    icon(name), el("span", { className: "visually-hidden" }, text));
}
