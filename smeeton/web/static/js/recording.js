// Recording and live streaming as people see them: a red "Recording" mark
// for everyone (announced when it changes), and for moderators the buttons
// to record and a dialog to stream, with each stream's status and errors.

import { t } from "./i18n.js";
import { announce, byId, el } from "./widgets.js";

/**
 * @typedef {import("./protocol.js").MeetingConnection} MeetingConnection
 * @typedef {{id: string, target: string, status: string,
 *   error: string}} StreamInfo
 * @typedef {{recording: boolean, started: number,
 *   streams: StreamInfo[]}} RecordingState
 */

/** Stream statuses (docs/protocol.md) -> the words for them. */
const STATUS_KEYS = {
  starting: "streamStarting",
  live: "streamLive",
  reconnecting: "streamReconnecting",
  stopped: "streamStopped",
  failed: "streamFailed",
};

export class RecordingPanel {
  /** @param {MeetingConnection} connection */
  constructor(connection) {
    this.connection = connection;
    /** @type {RecordingState} */
    this.state = { recording: false, started: 0, streams: [] };
    /** Whether this room lets moderators start and stop it by hand. */
    this.controls = true;
    this.indicator = byId("recording-indicator");
    this.recordButton = byId("toggle-recording");
    this.streamButton = byId("open-streams");
    this.dialog = /** @type {HTMLDialogElement} */ (byId("stream-dialog"));
    this.form = /** @type {HTMLFormElement} */ (byId("stream-form"));
    this.urlField = /** @type {HTMLInputElement} */ (byId("stream-url"));
    this.keyField = /** @type {HTMLInputElement} */ (byId("stream-key"));
    this.list = byId("stream-list");
    this.formError = byId("stream-error");
    this._waitingForStream = false;

    this.recordButton.addEventListener("click", () => {
      if (this.state.recording) connection.stopRecording();
      else connection.startRecording();
    });
    this.streamButton.addEventListener("click", () => this.openDialog());
    byId("stream-close").addEventListener("click", () => this.dialog.close());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._submit();
    });
    document.addEventListener("languagechange", () => this.render());
    this.render();
  }

  /** @param {RecordingState} state what the server says is on now */
  update(state) {
    const wasRecording = this.state.recording;
    const before = new Map(this.state.streams.map((s) => [s.id, s.status]));
    this.state = state;
    if (state.recording !== wasRecording) {
      announce(t(state.recording ? "recordingStarted" : "recordingStopped"));
    }
    for (const stream of state.streams) {
      const was = before.get(stream.id);
      if (was !== stream.status && stream.status !== "starting") {
        announce(t("streamNow", { target: stream.target,
          status: t(STATUS_KEYS[/** @type {keyof STATUS_KEYS} */
            (stream.status)] || stream.status) }));
      }
    }
    if (state.streams.length > before.size) {
      // Our start went through: the form can take the next one.
      this._waitingForStream = false;
      this.keyField.value = "";
    }
    this.render();
  }

  /**
   * A refusal of start_stream, shown in the dialog where it was typed.
   * @param {string} message
   * @returns {boolean} whether the dialog showed it
   */
  showError(message) {
    if (!this.dialog.open) return false;
    this._waitingForStream = false;
    this.formError.textContent = message;
    this.render();
    return true;
  }

  openDialog() {
    this.formError.textContent = "";
    this.dialog.showModal();
    this.urlField.focus();
  }

  render() {
    const { recording, streams } = this.state;
    const moderator = this.connection.isModerator;
    const live = streams.some((s) => s.status === "live");
    this.indicator.hidden = !recording && !live;
    byId("recording-text").textContent = t(recording && live
      ? "recordingAndLive" : recording ? "recording" : "live");
    this.recordButton.hidden = !moderator || !this.controls;
    this.streamButton.hidden = !moderator;
    this.recordButton.textContent = t(recording ? "stopRecording"
      : "startRecording");
    this.recordButton.setAttribute("aria-pressed", String(recording));
    const submit = /** @type {HTMLButtonElement} */ (byId("stream-start"));
    submit.disabled = this._waitingForStream;
    submit.textContent = t(this._waitingForStream ? "streamConnecting"
      : "startStream");
    this.list.replaceChildren(...streams.map((s) => this._item(s)));
    byId("stream-none").hidden = streams.length > 0;
  }

  _submit() {
    const url = this.urlField.value.trim();
    if (!url) {
      this.formError.textContent = t("streamUrlNeeded");
      this.urlField.focus();
      return;
    }
    this.formError.textContent = "";
    this._waitingForStream = true;
    this.connection.startStream(url, this.keyField.value.trim());
    this.render();
  }

  /** @param {StreamInfo} stream */
  _item(stream) {
    const ended = stream.status === "stopped" || stream.status === "failed";
    const words = t(STATUS_KEYS[/** @type {keyof STATUS_KEYS} */
      (stream.status)] || stream.status);
    return el("li", { className: `stream stream-${stream.status}` },
      el("div", { className: "stream-target" }, stream.target),
      el("div", { className: "stream-status", role: "status" }, words),
      stream.error ? el("div", { className: "stream-problem" },
        stream.error) : "",
      el("button", { type: "button", className: ended ? "" : "danger",
        "aria-label": t(ended ? "streamDismissName" : "streamStopName",
          { target: stream.target }),
        onclick: () => this.connection.stopStream(stream.id) },
      t(ended ? "streamDismiss" : "streamStop")));
  }
}
