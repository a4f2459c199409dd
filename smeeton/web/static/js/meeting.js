// The meeting page at /r/<slug>: the pre-join page, the lobby's wait, the
// meeting and its end. It joins the protocol module to the interface's
// parts and holds no protocol logic of its own.

import { languagePicker, register, t, translate } from "./i18n.js";
import strings from "./lang/meeting.js";
import { Chat } from "./chat.js";
import { Controls } from "./controls.js";
import { Moderation } from "./moderation.js";
import { Roster } from "./participants.js";
import { Prejoin } from "./prejoin.js";
import { JoinError, MeetingConnection } from "./protocol.js";
import { RecordingPanel } from "./recording.js";
import { TileGrid } from "./tiles.js";
import { addIcons, announce, byId, notify } from "./widgets.js";

/**
 * @typedef {import("./protocol.js").ParticipantInfo} ParticipantInfo
 * @typedef {import("./prejoin.js").Choice} Choice
 */

register(strings);

const VIEWS = ["prejoin", "waiting", "meeting", "ended"];
const ACCESS_CODES = ["access_code_required", "wrong_access_code"];

/** The room's slug from /r/<slug>, or ?room= on a page served elsewhere. */
function roomSlug() {
  const match = location.pathname.match(/^\/r\/([^/]+)/);
  if (match) return decodeURIComponent(match[1]);
  return new URLSearchParams(location.search).get("room") || "";
}

function websocketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** @param {string} view one of VIEWS */
function show(view) {
  for (const name of VIEWS) byId(name).hidden = name !== view;
  document.body.dataset.view = view;
}

/**
 * A refusal in words for a person, in their language.
 * @param {{code: string, message: string}} error
 */
function errorText(error) {
  const text = t("error_" + error.code);
  return text === "error_" + error.code ? error.message : text;
}

/**
 * One meeting, from pressing "Join meeting" to the end.
 */
class Meeting {
  /**
   * @param {string} slug
   * @param {string} moderatorKey
   * @param {string} ticket a join ticket from a BigBlueButton join link
   */
  constructor(slug, moderatorKey, ticket) {
    this.slug = slug;
    this.moderatorKey = moderatorKey;
    this.ticket = ticket;
    this.connection = new MeetingConnection(websocketUrl());
    this.tiles = new TileGrid(byId("stage"), byId("tiles"), byId("screens"));
    this.roster = new Roster(this.connection);
    this.chat = new Chat(this.connection,
      (count) => this._badge("open-chat", "chat", count));
    this.moderation = new Moderation(this.connection,
      (count) => this._badge("open-people", "participants", count,
        "peopleWaiting"));
    this.recording = new RecordingPanel(this.connection);
    /** @type {Controls | null} */
    this.controls = null;
    this.name = "";
    this.left = false;
    /** Where to go after the meeting; empty: stay on the page. */
    this.logoutUrl = "";
    this._listen();
    this._panels();
  }

  /**
   * Join with what the pre-join page gave; resolves once in the meeting.
   * @param {Choice} choice
   */
  async join(choice) {
    this.name = choice.name;
    const welcome = await this.connection.join(this.slug, choice.name,
      { accessCode: choice.accessCode, moderatorKey: this.moderatorKey,
        ticket: this.ticket });
    // The room's rules may have us arrive with a device off.
    const muted = welcome.muted || [];
    if (muted.includes("camera") && choice.camera) {
      choice.camera.stop();
      choice = { ...choice, camera: null };
    }
    this.controls = new Controls(this.connection, choice,
      (track) => this.tiles.setLocalVideo(this.connection.participantId,
        track));
    if (muted.includes("microphone")) this.controls.setMicrophone(false);
    show("meeting");
    this.logoutUrl = /^https?:\/\//i.test(welcome.logout_url || "") ?
      welcome.logout_url : "";
    this._welcome(welcome);
    await this.controls.start();
  }

  leave() {
    this.left = true;
    this.connection.leave();
    this._end(t("leftTitle"), t("leftMessage"), true);
  }

  /**
   * Go where the room's integration asked, after the person has read why
   * the meeting is over.
   * @param {number} delay milliseconds
   */
  _goToLogout(delay) {
    if (!this.logoutUrl) return;
    setTimeout(() => location.assign(this.logoutUrl), delay);
  }

  /** @param {any} welcome the first one, or one after a reconnection */
  _welcome(welcome) {
    const c = this.connection;
    const self = /** @type {ParticipantInfo} */ ({
      id: c.participantId, name: this.name, role: c.role,
      hand_raised: false, away: false, screen: false,
      microphone: this.controls ? this.controls.microphoneOn : true,
      camera: this.controls ? this.controls.cameraOn : true,
      ...this.roster.people.get(c.participantId) });
    const everyone = [self, ...(welcome.participants || [])];
    const ids = new Set(everyone.map((p) => p.id));
    for (const id of [...this.tiles.byId.keys()]) {
      if (!ids.has(id)) this.tiles.remove(id);
    }
    for (const info of everyone) this.tiles.upsert(info, info.id === self.id);
    if (this.controls) {
      this.tiles.setLocalVideo(self.id, this.controls.camera);
    }
    this.roster.reset(everyone);
    this.chat.setParticipants(this.roster.others());
    this.chat.setHistory(welcome.chat || []);
    byId("room-name").textContent = welcome.room_name || this.slug;
    document.title = `${welcome.room_name || this.slug} · Smeeton`;
    this.moderation.setLocked(Boolean(welcome.locked));
    this.recording.controls = welcome.recording_controls !== false;
    this.recording.render();
  }

  /** @param {ParticipantInfo} info */
  _updated(info) {
    const c = this.connection;
    const before = this.roster.people.get(info.id);
    this.roster.upsert(info);
    this.tiles.upsert(info, info.id === c.participantId);
    this.chat.setParticipants(this.roster.others());
    if (info.id === c.participantId) {
      if (this.controls) this.controls.setHand(Boolean(info.hand_raised));
      if (before && before.role !== info.role) {
        this.moderation.render();
        this.recording.render();
        if (info.role === "moderator") notify(t("promotedYou"));
      }
      return;
    }
    if (before && before.away !== info.away) {
      announce(t(info.away ? "awayNow" : "backNow", { name: info.name }));
    }
    if (before && !before.hand_raised && info.hand_raised) {
      announce(t("raisedHand", { name: info.name }));
    }
  }

  /** @param {string} kind "microphone" or "camera" @param {string} by */
  _muted(kind, by) {
    if (!this.controls) return;
    if (kind === "camera") this.controls.stopCamera();
    else this.controls.setMicrophone(false);
    this.controls.sendState();
    notify(t(kind === "camera" ? "cameraStoppedBy" : "mutedBy",
      { name: by }), true);
  }

  /**
   * @param {string} title
   * @param {string} message
   * @param {boolean} canRejoin
   */
  _end(title, message, canRejoin) {
    if (this.controls) this.controls.stopAll();
    this.tiles.clear();
    byId("ended-title").textContent = title;
    byId("ended-message").textContent = message;
    byId("rejoin").hidden = !canRejoin;
    byId("connection-banner").hidden = true;
    show("ended");
    if (this.left) this._goToLogout(0);
    else if (!canRejoin) this._goToLogout(3000);
  }

  _listen() {
    const c = this.connection;
    /** @type {Record<string, (detail: any) => void>} */
    const handlers = {
      lobbywaiting: ({ room_name: roomName }) => {
        if (roomName) byId("room-name").textContent = roomName;
        byId("waiting-status").textContent = t("waitingStatus");
        show("waiting");
      },
      welcome: (welcome) => { if (this.controls) this._welcome(welcome); },
      participantjoined: (info) => {
        this._updated(info);
        announce(t("joined", { name: info.name }));
      },
      participantupdated: (info) => this._updated(info),
      participantleft: ({ participant_id: id }) => {
        const info = this.roster.people.get(id);
        this.roster.remove(id);
        this.tiles.remove(id);
        this.chat.setParticipants(this.roster.others());
        if (info) announce(t("left", { name: info.name }));
      },
      chat: ({ message }) => this.chat.add(message),
      reaction: ({ participant_id: id, emoji }) => {
        this.tiles.react(id, emoji);
        const info = this.roster.people.get(id);
        if (info) announce(`${info.name}: ${emoji}`);
      },
      activespeaker: ({ participant_id: id }) => this.tiles.setSpeaker(id),
      muted: ({ kind, by }) => this._muted(kind, by),
      lobby: ({ waiting }) => this.moderation.setWaiting(waiting || []),
      roomstate: ({ locked }) => {
        this.moderation.setLocked(Boolean(locked));
        announce(t(locked ? "lockedNow" : "unlockedNow"));
      },
      track: ({ info, track }) => this.tiles.addTrack(info, track),
      trackended: (info) => this.tiles.removeTrack(info),
      recordingstate: (state) => this.recording.update(state),
      servererror: (error) => {
        if (c.state !== "joined") return;
        // A refused stream is shown in the dialog where it was typed.
        if (error.code === "bad_request" &&
            this.recording.showError(error.message)) return;
        notify(errorText(error), true);
      },
      reconnecting: () => {
        const banner = byId("connection-banner");
        banner.textContent = t("reconnecting");
        banner.hidden = false;
      },
      reconnected: () => {
        byId("connection-banner").hidden = true;
        notify(t("reconnected"));
        if (this.controls) this.controls.sendState();
      },
      denied: () => this._end(t("deniedTitle"), t("deniedMessage"), false),
      removed: () => this._end(t("removedTitle"), t("removedMessage"), false),
      meetingended: () => this._end(t("endedTitle"), t("endedMessage"),
        false),
      closed: () => {
        const view = document.body.dataset.view;
        if (!this.left && (view === "meeting" || view === "waiting")) {
          this._end(t("lostTitle"), t("lostMessage"), true);
        }
      },
    };
    for (const [type, handle] of Object.entries(handlers)) {
      c.addEventListener(type, (event) =>
        handle(/** @type {CustomEvent} */ (event).detail));
    }
  }

  /** The side panel holds either the participant list or the chat. */
  _panels() {
    const side = byId("side");
    /** @param {string} which "people" or "chat", or "" to close */
    const open = (which) => {
      side.hidden = !which;
      byId("people-panel").hidden = which !== "people";
      byId("chat-panel").hidden = which !== "chat";
      byId("open-people").setAttribute("aria-expanded",
        String(which === "people"));
      byId("open-chat").setAttribute("aria-expanded",
        String(which === "chat"));
      byId("side-title").textContent = which ? t(which === "chat" ?
        "chat" : "participants") : "";
      document.body.classList.toggle("side-open", Boolean(which));
      if (which === "chat") {
        this.chat.markRead();
        byId("chat-text").focus();
      }
    };
    /** @param {string} which */
    const flip = (which) => open(byId(`${which}-panel`).hidden ||
      side.hidden ? which : "");
    byId("open-people").addEventListener("click", () => flip("people"));
    byId("open-chat").addEventListener("click", () => flip("chat"));
    byId("side-close").addEventListener("click", () => open(""));
    byId("leave").addEventListener("click", () => this.leave());
  }

  /**
   * A count on a toolbar button, also in its accessible name.
   * @param {string} id
   * @param {string} key the button's name
   * @param {number} count
   * @param {string} [countKey] a longer name with the count
   */
  _badge(id, key, count, countKey = "unreadMessages") {
    const button = byId(id);
    const badge = /** @type {HTMLElement} */ (button.querySelector(".badge"));
    badge.textContent = count ? String(count) : "";
    badge.hidden = !count;
    button.setAttribute("aria-label", count ? t(countKey,
      { name: t(key), count }) : t(key));
  }
}

/**
 * The room's name, and its access code field when it has one, before
 * joining; the page works without them if the request fails.
 * @param {string} slug
 * @param {Prejoin} prejoin
 */
function showInvite(slug, prejoin) {
  fetch(`/api/v1/invites/${encodeURIComponent(slug)}`)
    .then((response) => (response.ok ? response.json() : null))
    .then((room) => {
      if (!room) return;
      byId("room-name").textContent = room.name;
      document.title = `${room.name} · Smeeton`;
      if (room.access_code) prejoin.accessRow.hidden = false;
    })
    .catch(() => {});
}

/** Pre-join until a join succeeds, or shows why it cannot. */
async function main() {
  byId("language").append(languagePicker());
  translate();
  addIcons();
  document.addEventListener("languagechange", () => addIcons());
  const slug = roomSlug();
  const moderatorKey = new URLSearchParams(location.search)
    .get("moderator") || "";
  const ticket = new URLSearchParams(location.hash.slice(1))
    .get("ticket") || "";
  byId("room-name").textContent = slug;
  show("prejoin");
  const prejoin = new Prejoin();
  const started = prejoin.start().catch(() => {});
  showInvite(slug, prejoin);
  const meeting = new Meeting(slug, moderatorKey, ticket);
  byId("rejoin").addEventListener("click", () => location.reload());
  byId("waiting-leave").addEventListener("click", () => meeting.leave());
  // @ts-ignore: read-outs for tests and the console, no shortcuts
  window.smeeton = testHook(meeting);

  // A join link names the person and means "straight in": no pre-join.
  const ticketName = ticket ? nameIn(ticket) : "";
  if (ticketName) {
    prejoin.fixName(ticketName);
    await started;
    if (await joinWith(meeting, prejoin, prejoin.choice(ticketName))) return;
  }
  for (;;) {
    if (await joinWith(meeting, prejoin, await prejoin.ask())) return;
  }
}

/**
 * One try at joining; whether it is over (in, or turned away for good).
 * @param {Meeting} meeting
 * @param {Prejoin} prejoin
 * @param {Choice} choice
 */
async function joinWith(meeting, prejoin, choice) {
  try {
    await meeting.join(choice);
    prejoin.handOver();
    return true;
  } catch (error) {
    if (!(error instanceof JoinError)) throw error;
    if (error.code === "denied") return true;
    show("prejoin");
    if (ACCESS_CODES.includes(error.code)) {
      prejoin.askAccessCode(errorText(error));
    } else {
      prejoin.showError(errorText(error));
    }
    return false;
  }
}

/**
 * The name a join ticket carries, to show; the server checks the ticket.
 * @param {string} ticket
 */
function nameIn(ticket) {
  try {
    const body = ticket.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
    return String(JSON.parse(new TextDecoder().decode(bytes)).name || "");
  } catch (error) {
    return "";
  }
}

/** @param {Meeting} meeting */
function testHook(meeting) {
  return {
    get connection() { return meeting.connection; },
    /** What the meeting is doing, as plain data. */
    state() {
      const c = meeting.connection;
      /** @type {Record<string, any>} */
      const senders = {};
      for (const [label, entry] of c.published) {
        const track = entry.transceiver.sender.track;
        senders[label] = track ? { enabled: track.enabled,
          readyState: track.readyState } : null;
      }
      return { state: c.state, participantId: c.participantId,
        role: c.role, senders,
        microphoneOn: meeting.controls ? meeting.controls.microphoneOn
          : false,
        cameraOn: meeting.controls ? meeting.controls.cameraOn : false };
    },
  };
}

main();
