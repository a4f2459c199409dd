// The pre-join page: a name, a camera and a microphone chosen with a preview
// and a level meter, either of them off, and an access code when asked for.

import { t } from "./i18n.js";
import { byId } from "./widgets.js";

const NAME_KEY = "smeeton.name";

/**
 * @typedef {{name: string, accessCode: string,
 *   microphone: MediaStreamTrack | null, camera: MediaStreamTrack | null,
 *   microphoneId: string, cameraId: string}} Choice
 */

export class Prejoin {
  constructor() {
    this.form = /** @type {HTMLFormElement} */ (byId("join-form"));
    this.nameInput = /** @type {HTMLInputElement} */ (byId("name"));
    this.cameraOn = /** @type {HTMLInputElement} */ (byId("camera-on"));
    this.microphoneOn = /** @type {HTMLInputElement} */ (
      byId("microphone-on"));
    this.cameraSelect = /** @type {HTMLSelectElement} */ (
      byId("camera-select"));
    this.microphoneSelect = /** @type {HTMLSelectElement} */ (
      byId("microphone-select"));
    this.preview = /** @type {HTMLVideoElement} */ (byId("preview"));
    this.previewOff = byId("preview-off");
    this.meter = /** @type {HTMLMeterElement} */ (byId("level"));
    this.accessRow = byId("access-code-row");
    this.accessInput = /** @type {HTMLInputElement} */ (byId("access-code"));
    this.error = byId("join-error");
    this.deviceNote = byId("device-note");
    /** @type {MediaStreamTrack | null} */
    this.camera = null;
    /** @type {MediaStreamTrack | null} */
    this.microphone = null;
    /** @type {AudioContext | null} */
    this.audio = null;
    this._meterFrame = 0;
    this.nameInput.value = localStorage.getItem(NAME_KEY) || "";
  }

  /** Ask for the devices, list them and start the preview. */
  async start() {
    this.cameraOn.addEventListener("change", () => this._camera());
    this.microphoneOn.addEventListener("change", () => this._microphone());
    this.cameraSelect.addEventListener("change", () => this._camera());
    this.microphoneSelect.addEventListener("change",
      () => this._microphone());
    await Promise.all([this._camera(), this._microphone()]);
    await this._listDevices();
    navigator.mediaDevices.addEventListener("devicechange",
      () => this._listDevices());
  }

  /**
   * Wait for the person to press "Join meeting" with a name.
   * @returns {Promise<Choice>}
   */
  ask() {
    this.form.querySelector("button")?.removeAttribute("disabled");
    return new Promise((resolve) => {
      /** @param {SubmitEvent} event */
      const submit = (event) => {
        event.preventDefault();
        const name = this.nameInput.value.trim();
        if (!name) {
          this.showError(t("nameNeeded"));
          this.nameInput.focus();
          return;
        }
        this.form.removeEventListener("submit", submit);
        this.form.querySelector("button")?.setAttribute("disabled", "");
        if (!this.nameInput.readOnly) localStorage.setItem(NAME_KEY, name);
        this.showError("");
        resolve(this.choice(name));
      };
      this.form.addEventListener("submit", submit);
    });
  }

  /**
   * What is chosen now, without waiting for the person.
   * @param {string} name
   * @returns {Choice}
   */
  choice(name) {
    return { name, accessCode: this.accessInput.value.trim(),
      microphone: this.microphone, camera: this.camera,
      microphoneId: this.microphoneSelect.value,
      cameraId: this.cameraSelect.value };
  }

  /**
   * A name given by a join link: shown, and not to be changed.
   * @param {string} name
   */
  fixName(name) {
    this.nameInput.value = name;
    this.nameInput.readOnly = true;
  }

  /** @param {string} message shown in the alert under the form */
  showError(message) {
    this.error.textContent = message;
  }

  /**
   * Show the access code field, with what went wrong.
   * @param {string} message
   */
  askAccessCode(message) {
    this.accessRow.hidden = false;
    this.showError(message);
    this.accessInput.select();
    this.accessInput.focus();
  }

  /** The meeting takes the tracks over; stop only the preview's meter. */
  handOver() {
    cancelAnimationFrame(this._meterFrame);
    if (this.audio) this.audio.close();
    this.audio = null;
    this.preview.srcObject = null;
  }

  async _camera() {
    if (this.camera) this.camera.stop();
    this.camera = null;
    if (this.cameraOn.checked) {
      this.camera = await this._track("video", this.cameraSelect.value);
      if (!this.camera) this.cameraOn.checked = false;
    }
    this.preview.srcObject = this.camera ? new MediaStream([this.camera])
      : null;
    this.preview.hidden = !this.camera;
    this.previewOff.hidden = Boolean(this.camera);
    this.cameraSelect.disabled = !this.cameraOn.checked;
  }

  async _microphone() {
    if (this.microphone) this.microphone.stop();
    this.microphone = null;
    if (this.microphoneOn.checked) {
      this.microphone = await this._track("audio",
        this.microphoneSelect.value);
      if (!this.microphone) this.microphoneOn.checked = false;
    }
    this.microphoneSelect.disabled = !this.microphoneOn.checked;
    this._meter();
  }

  /**
   * @param {"audio" | "video"} kind
   * @param {string} deviceId
   * @returns {Promise<MediaStreamTrack | null>}
   */
  async _track(kind, deviceId) {
    /** @type {MediaTrackConstraints} */
    const constraints = deviceId ? { deviceId: { exact: deviceId } } : {};
    if (kind === "video") {
      Object.assign(constraints, { width: { ideal: 640 },
        height: { ideal: 480 } });
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia(
        { [kind]: constraints });
      this.deviceNote.textContent = "";
      return stream.getTracks()[0] || null;
    } catch (error) {
      this.deviceNote.textContent = t(kind === "video" ? "cameraUnavailable"
        : "microphoneUnavailable");
      return null;
    }
  }

  async _listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const lists = [["videoinput", this.cameraSelect, this.camera],
      ["audioinput", this.microphoneSelect, this.microphone]];
    for (const [kind, select, track] of lists) {
      const list = /** @type {HTMLSelectElement} */ (select);
      const using = track ? /** @type {MediaStreamTrack} */ (track)
        .getSettings().deviceId : list.value;
      list.replaceChildren();
      let number = 0;
      for (const device of devices) {
        if (device.kind !== kind) continue;
        number += 1;
        const label = device.label || t(kind === "videoinput" ?
          "cameraNumber" : "microphoneNumber", { number });
        list.append(new Option(label, device.deviceId, false,
          device.deviceId === using));
      }
    }
  }

  /** Show the microphone's loudness, so a person sees it picks them up. */
  _meter() {
    cancelAnimationFrame(this._meterFrame);
    this.meter.value = 0;
    if (!this.microphone) return;
    if (!this.audio) {
      this.audio = new AudioContext();
      // Browsers start audio only after a gesture; any will do.
      const resume = () => this.audio && this.audio.resume();
      document.addEventListener("pointerdown", resume, { once: true });
      document.addEventListener("keydown", resume, { once: true });
    }
    const source = this.audio.createMediaStreamSource(
      new MediaStream([this.microphone]));
    const analyser = this.audio.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const tick = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const rms = Math.sqrt(sum / samples.length);
      // Speech sits around -30 dBFS; show -60..0 dBFS as 0..1.
      const db = 20 * Math.log10(rms || 1e-6);
      this.meter.value = Math.max(0, Math.min(1, (db + 60) / 60));
      this._meterFrame = requestAnimationFrame(tick);
    };
    tick();
  }
}
