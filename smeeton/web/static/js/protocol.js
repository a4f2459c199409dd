// The meeting protocol of docs/protocol.md, with no DOM code: one WebSocket,
// a publishing peer connection (we offer) and a receiving one (the server
// offers). Events: "welcome", "track", "trackended", "participantjoined",
// "participantleft", "servererror", "closed".

export const PROTOCOL_VERSION = 1;

/**
 * @typedef {{track_id: string, mid: string, participant_id: string,
 *   kind: string, label: string}} TrackInfo
 */

export class MeetingConnection extends EventTarget {
  /** @param {string} url the WebSocket URL of the server */
  constructor(url) {
    super();
    this.url = url;
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {RTCPeerConnection | null} */
    this.publishConnection = null;
    /** @type {RTCPeerConnection | null} */
    this.subscribeConnection = null;
    /** @type {Map<string, {track: MediaStreamTrack, label: string,
     *   transceiver: RTCRtpTransceiver}>} label -> what we publish */
    this.published = new Map();
    /** @type {Map<string, TrackInfo>} mid -> what the server sends there */
    this.receiving = new Map();
    this.participantId = "";
    this._pendingAnswer = null;
    this._publishing = Promise.resolve();
  }

  /**
   * Open the WebSocket and join a room.
   * @param {string} room
   * @param {string} name
   * @returns {Promise<object>} the welcome message
   */
  join(room, name) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this.socket = socket;
      socket.onopen = () => {
        this._send({ type: "join", room, name, protocol: PROTOCOL_VERSION });
      };
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "welcome") {
          this.participantId = message.participant_id;
          resolve(message);
        } else if (message.type === "error" && !this.participantId) {
          reject(new Error(message.message));
        }
        this._handle(message);
      };
      socket.onclose = (event) => {
        reject(new Error("connection closed"));
        this._emit("closed", { code: event.code, reason: event.reason });
      };
    });
  }

  /**
   * Publish a track, or replace the one published under the same label.
   * @param {MediaStreamTrack} track
   * @param {string} label "microphone", "camera" or "screen"
   */
  publish(track, label) {
    return this._serially(async () => {
      const current = this.published.get(label);
      if (current && current.transceiver.sender) {
        await current.transceiver.sender.replaceTrack(track);
        current.track = track;
        if (current.transceiver.direction !== "sendonly") {
          current.transceiver.direction = "sendonly";
          await this._offerPublish();
        }
        return;
      }
      const pc = this._publishConnection();
      const transceiver = pc.addTransceiver(track, { direction: "sendonly" });
      this.published.set(label, { track, label, transceiver });
      await this._offerPublish();
    });
  }

  /**
   * Stop publishing the track under a label.
   * @param {string} label
   */
  unpublish(label) {
    return this._serially(async () => {
      const current = this.published.get(label);
      if (!current) return;
      this.published.delete(label);
      current.transceiver.stop();
      await this._offerPublish();
    });
  }

  /** Leave the room and close everything. */
  leave() {
    this._send({ type: "leave" });
    this.close();
  }

  close() {
    if (this.socket) this.socket.close();
    this.socket = null;
    for (const pc of [this.publishConnection, this.subscribeConnection]) {
      if (pc) pc.close();
    }
    this.publishConnection = null;
    this.subscribeConnection = null;
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** @param {object} message */
  _send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  /** @param {() => Promise<void>} work */
  _serially(work) {
    const next = this._publishing.then(work, work);
    this._publishing = next.catch(() => {});
    return next;
  }

  _publishConnection() {
    if (!this.publishConnection) {
      this.publishConnection = new RTCPeerConnection({ bundlePolicy:
        "max-bundle", rtcpMuxPolicy: "require" });
    }
    return this.publishConnection;
  }

  async _offerPublish() {
    const pc = this._publishConnection();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    /** @type {Record<string, string>} */
    const tracks = {};
    for (const { label, transceiver } of this.published.values()) {
      if (transceiver.mid !== null) tracks[transceiver.mid] = label;
    }
    const answer = new Promise((resolve, reject) => {
      this._pendingAnswer = { resolve, reject };
    });
    this._send({ type: "publish", sdp: pc.localDescription.sdp, tracks });
    const sdp = await answer;
    await pc.setRemoteDescription({ type: "answer", sdp });
  }

  /** @param {any} message */
  async _handle(message) {
    switch (message.type) {
      case "publish_answer":
        if (this._pendingAnswer) this._pendingAnswer.resolve(message.sdp);
        this._pendingAnswer = null;
        break;
      case "offer":
        await this._answerOffer(message.sdp, message.tracks);
        break;
      case "error":
        if (this._pendingAnswer && message.code === "bad_sdp") {
          this._pendingAnswer.reject(new Error(message.message));
          this._pendingAnswer = null;
        }
        this._emit("servererror", message);
        break;
      case "welcome":
        this._emit("welcome", message);
        break;
      case "participant_joined":
        this._emit("participantjoined", message.participant);
        break;
      case "participant_left":
        this._emit("participantleft", message);
        break;
    }
  }

  /**
   * @param {string} sdp
   * @param {TrackInfo[]} tracks
   */
  async _answerOffer(sdp, tracks) {
    if (!this.subscribeConnection) {
      const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle",
        rtcpMuxPolicy: "require" });
      this.subscribeConnection = pc;
    }
    const pc = this.subscribeConnection;
    const before = new Map(this.receiving);
    this.receiving = new Map(tracks.map((info) => [info.mid, info]));
    for (const [mid, info] of before) {
      const now = this.receiving.get(mid);
      if (!now || now.track_id !== info.track_id) {
        this._emit("trackended", info);
      }
    }
    await pc.setRemoteDescription({ type: "offer", sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this._send({ type: "answer", sdp: pc.localDescription.sdp });
    for (const transceiver of pc.getTransceivers()) {
      const info = this.receiving.get(transceiver.mid || "");
      const old = before.get(transceiver.mid || "");
      if (info && (!old || old.track_id !== info.track_id)) {
        this._emit("track", { info, track: transceiver.receiver.track });
      }
    }
  }
}
