// The tile grid: one tile per participant (camera video, or initials when
// the camera is off; the name; microphone-off, hand and away marks; the
// active speaker outlined), and a shared screen on the main stage.

import { t } from "./i18n.js";
import { el, icon, initials } from "./widgets.js";

/**
 * @typedef {import("./protocol.js").ParticipantInfo} ParticipantInfo
 * @typedef {import("./protocol.js").TrackInfo} TrackInfo
 * @typedef {{element: HTMLElement, video: HTMLVideoElement,
 *   audio: HTMLAudioElement, avatar: HTMLElement, name: HTMLElement,
 *   marks: HTMLElement, info: ParticipantInfo, self: boolean,
 *   hasVideo: boolean}} Tile
 */

export class TileGrid {
  /**
   * @param {HTMLElement} stage holds screens and tiles
   * @param {HTMLElement} tiles
   * @param {HTMLElement} screens
   */
  constructor(stage, tiles, screens) {
    this.stage = stage;
    this.tiles = tiles;
    this.screens = screens;
    /** @type {Map<string, Tile>} */
    this.byId = new Map();
    this.speaker = "";
    document.addEventListener("languagechange", () => {
      for (const tile of this.byId.values()) this._render(tile);
    });
  }

  /** Remove every tile, for a fresh start after a reconnection. */
  clear() {
    this.byId.clear();
    this.tiles.replaceChildren();
    this.screens.replaceChildren();
    this._layout();
  }

  /**
   * Add or update a participant's tile.
   * @param {ParticipantInfo} info
   * @param {boolean} [self] our own tile, with the local preview
   */
  upsert(info, self = false) {
    let tile = this.byId.get(info.id);
    if (!tile) {
      tile = this._create(info, self);
      this.byId.set(info.id, tile);
      if (self) this.tiles.prepend(tile.element);
      else this.tiles.append(tile.element);
    }
    tile.info = { ...tile.info, ...info };
    this._render(tile);
    this._layout();
  }

  /** @param {string} id */
  remove(id) {
    const tile = this.byId.get(id);
    if (tile) tile.element.remove();
    this.byId.delete(id);
    for (const screen of this.screens.querySelectorAll(
      `[data-participant-id="${id}"]`)) screen.remove();
    this._layout();
  }

  /**
   * Show what arrived for a participant.
   * @param {TrackInfo} info
   * @param {MediaStreamTrack} track
   */
  addTrack(info, track) {
    if (info.label === "screen" && info.kind === "video") {
      this._addScreen(info, track);
      return;
    }
    const tile = this.byId.get(info.participant_id);
    if (!tile) return;
    const stream = new MediaStream([track]);
    if (info.kind === "audio" && info.label === "microphone") {
      tile.audio.srcObject = stream;
      tile.audio.dataset.trackId = info.track_id;
    } else if (info.kind === "audio") {
      const audio = el("audio", { autoplay: true,
        dataset: { trackId: info.track_id, label: info.label } });
      audio.srcObject = stream;
      tile.element.append(audio);
    } else {
      tile.video.srcObject = stream;
      tile.video.dataset.trackId = info.track_id;
      tile.hasVideo = true;
      this._render(tile);
    }
  }

  /** @param {TrackInfo} info */
  removeTrack(info) {
    const selector = `[data-track-id="${info.track_id}"]`;
    for (const element of document.querySelectorAll(selector)) {
      const media = /** @type {HTMLMediaElement} */ (element);
      if (media.closest(".screen") || media.dataset.label) {
        (media.closest(".screen") || media).remove();
        continue;
      }
      media.srcObject = null;
      delete media.dataset.trackId;
      const tile = this.byId.get(info.participant_id);
      if (tile && media === tile.video) {
        tile.hasVideo = false;
        this._render(tile);
      }
    }
    this._layout();
  }

  /**
   * Our own camera in our tile, mirrored as a person expects.
   * @param {string} id
   * @param {MediaStreamTrack | null} track
   */
  setLocalVideo(id, track) {
    const tile = this.byId.get(id);
    if (!tile) return;
    tile.video.srcObject = track ? new MediaStream([track]) : null;
    tile.hasVideo = Boolean(track);
    this._render(tile);
  }

  /** @param {string} id who speaks now, or "" */
  setSpeaker(id) {
    this.speaker = id;
    for (const [tileId, tile] of this.byId) {
      tile.element.classList.toggle("speaking", tileId === id);
    }
  }

  /**
   * A reaction floating up over someone's tile.
   * @param {string} id
   * @param {string} emoji
   */
  react(id, emoji) {
    const tile = this.byId.get(id);
    if (!tile) return;
    const bubble = el("span", { className: "reaction-bubble",
      "aria-hidden": "true" }, emoji);
    tile.element.append(bubble);
    setTimeout(() => bubble.remove(), 3000);
  }

  /**
   * @param {ParticipantInfo} info
   * @param {boolean} self
   * @returns {Tile}
   */
  _create(info, self) {
    const video = el("video", { autoplay: true, playsInline: true,
      muted: true });
    const audio = el("audio", { autoplay: true });
    const avatar = el("div", { className: "avatar", "aria-hidden": "true" });
    const name = el("span", { className: "name" });
    const marks = el("span", { className: "marks" });
    const element = el("div", { className: self ? "tile self" : "tile",
      role: "group", dataset: { participantId: info.id } },
    video, avatar, el("div", { className: "caption" }, name, marks), audio);
    return { element, video, audio, avatar, name, marks, info, self,
      hasVideo: false };
  }

  /** @param {Tile} tile */
  _render(tile) {
    const { info } = tile;
    const label = tile.self ? t("youName", { name: info.name }) : info.name;
    tile.name.textContent = label;
    tile.element.setAttribute("aria-label", label);
    tile.avatar.replaceChildren(el("span", { className: "initials" },
      initials(info.name)));
    const showVideo = tile.hasVideo && info.camera !== false;
    tile.video.hidden = !showVideo;
    tile.avatar.hidden = showVideo;
    tile.element.classList.toggle("away", Boolean(info.away));
    tile.element.classList.toggle("speaking", this.speaker === info.id);

    tile.marks.replaceChildren();
    if (info.microphone === false) {
      tile.marks.append(mark("microphone", t("microphoneOff"), "mic-off"));
    }
    if (info.hand_raised) {
      tile.marks.append(mark("hand", t("handRaised"), "hand"));
    }
    if (info.away) {
      tile.marks.append(el("span", { className: "mark away-mark" },
        t("away")));
    }
  }

  /**
   * @param {TrackInfo} info
   * @param {MediaStreamTrack} track
   */
  _addScreen(info, track) {
    const owner = this.byId.get(info.participant_id);
    const video = el("video", { autoplay: true, playsInline: true,
      muted: true, dataset: { trackId: info.track_id } });
    video.srcObject = new MediaStream([track]);
    const caption = el("div", { className: "caption" },
      el("span", { className: "name" }, t("screenOf",
        { name: owner ? owner.info.name : "" })));
    this.screens.append(el("div", { className: "screen", role: "group",
      "aria-label": t("screenOf", { name: owner ? owner.info.name : "" }),
      dataset: { participantId: info.participant_id, label: "screen" } },
    video, caption));
    this._layout();
  }

  /** Columns by count; a shared screen takes the stage, cameras beside. */
  _layout() {
    const count = this.byId.size;
    const sharing = this.screens.childElementCount > 0;
    this.stage.classList.toggle("sharing", sharing);
    const columns = sharing ? 1 : Math.ceil(Math.sqrt(count));
    this.tiles.style.setProperty("--columns", String(Math.max(1, columns)));
    this.tiles.dataset.count = String(count);
  }
}

/**
 * An icon with its meaning for screen readers.
 * @param {"microphone" | "hand"} name
 * @param {string} text
 * @param {string} kind
 */
function mark(name, text, kind) {
  const svg = icon(name);
  return el("span", { className: `mark ${kind}`, title: text },
    svg, el("span", { className: "visually-hidden" }, text));
}
