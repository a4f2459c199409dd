// Our own media and the meeting's toolbar: microphone, camera and screen
// toggles, raised hand, reactions, and the side panel's buttons.

import { t } from "./i18n.js";
import { REACTIONS } from "./protocol.js";
import { announce, byId, el } from "./widgets.js";

/** @typedef {import("./protocol.js").MeetingConnection} MeetingConnection */

const REACTION_NAMES = ["thumbsUp", "clap", "laugh", "surprised", "heart",
  "party"];

export class Controls {
  /**
   * @param {MeetingConnection} connection
   * @param {import("./prejoin.js").Choice} choice what the pre-join gave
   * @param {(track: MediaStreamTrack | null) => void} onLocalVideo
   */
  constructor(connection, choice, onLocalVideo) {
    this.connection = connection;
    this.onLocalVideo = onLocalVideo;
    this.microphone = choice.microphone;
    this.camera = choice.camera;
    /** @type {MediaStreamTrack | null} */
    this.screen = null;
    this.microphoneId = choice.microphoneId;
    this.cameraId = choice.cameraId;
    this.microphoneOn = Boolean(choice.microphone);
    this.cameraOn = Boolean(choice.camera);
    this.handRaised = false;

    this.micButton = byId("toggle-microphone");
    this.cameraButton = byId("toggle-camera");
    this.shareButton = byId("toggle-screen");
    this.handButton = byId("toggle-hand");
    this.reactionsButton = byId("toggle-reactions");
    this.reactionsMenu = byId("reactions-menu");

    this.micButton.addEventListener("click", () => this.toggleMicrophone());
    this.cameraButton.addEventListener("click", () => this.toggleCamera());
    this.shareButton.addEventListener("click", () => this.toggleScreen());
    this.shareButton.hidden = !navigator.mediaDevices.getDisplayMedia;
    this.handButton.addEventListener("click", () => {
      this.setHand(!this.handRaised);
      connection.raiseHand(this.handRaised);
    });
    this._reactions();
    document.addEventListener("languagechange", () => this.render());
    this.render();
  }

  /** Publish what the pre-join page gave us. */
  async start() {
    if (this.microphone) {
      await this.connection.publish(this.microphone, "microphone");
    }
    if (this.camera) await this.connection.publish(this.camera, "camera");
    this.sendState();
  }

  /** Tell the others what we send. */
  sendState() {
    this.connection.setMediaState({ microphone: this.microphoneOn,
      camera: this.cameraOn, screen: Boolean(this.screen) });
  }

  async toggleMicrophone() {
    if (this.microphoneOn) {
      this.setMicrophone(false);
    } else {
      if (!this.microphone) {
        this.microphone = await this._track("audio", this.microphoneId);
        if (!this.microphone) return;
        await this.connection.publish(this.microphone, "microphone");
      }
      this.setMicrophone(true);
    }
    this.sendState();
  }

  /**
   * Our microphone on or off; off sends silence and keeps the track.
   * @param {boolean} on
   */
  setMicrophone(on) {
    this.microphoneOn = on && Boolean(this.microphone);
    if (this.microphone) this.microphone.enabled = this.microphoneOn;
    this.render();
  }

  async toggleCamera() {
    if (this.cameraOn) {
      this.stopCamera();
    } else {
      const track = await this._track("video", this.cameraId);
      if (!track) return;
      this.camera = track;
      this.cameraOn = true;
      this.onLocalVideo(track);
      this.render();
      await this.connection.publish(track, "camera");
    }
    this.sendState();
  }

  /** Release the camera, so its light goes off too. */
  stopCamera() {
    if (this.camera) this.camera.stop();
    this.camera = null;
    this.cameraOn = false;
    this.connection.pause("camera");
    this.onLocalVideo(null);
    this.render();
  }

  async toggleScreen() {
    if (this.screen) {
      this._stopScreen();
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true,
        audio: false });
    } catch {
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    this.screen = track;
    track.addEventListener("ended", () => this._stopScreen());
    this.render();
    announce(t("sharingScreen"));
    await this.connection.publish(track, "screen");
    this.sendState();
  }

  /** @param {boolean} raised */
  setHand(raised) {
    this.handRaised = raised;
    this.render();
  }

  /** Stop every local track: we are out of the meeting. */
  stopAll() {
    for (const track of [this.microphone, this.camera, this.screen]) {
      if (track) track.stop();
    }
    this.microphone = this.camera = this.screen = null;
    this.microphoneOn = this.cameraOn = false;
  }

  render() {
    toggle(this.micButton, this.microphoneOn, "microphone");
    toggle(this.cameraButton, this.cameraOn, "camera");
    toggle(this.shareButton, Boolean(this.screen), "screen");
    toggle(this.handButton, this.handRaised, "hand");
  }

  _stopScreen() {
    if (!this.screen) return;
    this.screen.stop();
    this.screen = null;
    this.connection.unpublish("screen");
    this.render();
    this.sendState();
  }

  _reactions() {
    const menu = this.reactionsMenu;
    REACTIONS.forEach((emoji, index) => {
      const name = REACTION_NAMES[index];
      const button = el("button", { type: "button", className: "reaction",
        dataset: { i18nLabel: name }, "aria-label": t(name) }, emoji);
      button.addEventListener("click", () => {
        this.connection.react(emoji);
        this._menu(false);
        this.reactionsButton.focus();
      });
      menu.append(button);
    });
    this.reactionsButton.addEventListener("click", () =>
      this._menu(menu.hidden));
    document.addEventListener("click", (event) => {
      const target = /** @type {Node} */ (event.target);
      if (!menu.hidden && !menu.parentElement?.contains(target)) {
        this._menu(false);
      }
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        this._menu(false);
        this.reactionsButton.focus();
      }
    });
  }

  /** @param {boolean} open */
  _menu(open) {
    this.reactionsMenu.hidden = !open;
    this.reactionsButton.setAttribute("aria-expanded", String(open));
    if (open) {
      /** @type {HTMLElement | null} */ (this.reactionsMenu.firstElementChild)
        ?.focus();
    }
  }

  /**
   * @param {"audio" | "video"} kind
   * @param {string} deviceId
   * @returns {Promise<MediaStreamTrack | null>}
   */
  async _track(kind, deviceId) {
    const constraints = deviceId ? { deviceId: { ideal: deviceId } } : true;
    try {
      const stream = await navigator.mediaDevices.getUserMedia(
        { [kind]: constraints });
      return stream.getTracks()[0] || null;
    } catch {
      announce(t(kind === "video" ? "cameraUnavailable"
        : "microphoneUnavailable"));
      return null;
    }
  }
}

/**
 * A toggle's pressed state, with an "off" look when not pressed.
 * @param {HTMLElement} button
 * @param {boolean} on
 * @param {string} kind
 */
function toggle(button, on, kind) {
  button.setAttribute("aria-pressed", String(on));
  button.classList.toggle("off", !on && (kind === "microphone" ||
    kind === "camera"));
}
