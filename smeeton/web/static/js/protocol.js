// The meeting protocol of docs/protocol.md, with no DOM code: one WebSocket,
// a publishing peer connection (we offer) and a receiving one (the server
// offers), and a session that comes back by itself when the socket drops.
//
// Events (CustomEvent, the message or a part of it as detail): "welcome",
// "lobbywaiting", "denied", "removed", "meetingended", "participantjoined",
// "participantupdated", "participantleft", "chat", "reaction",
// "activespeaker", "muted", "lobby", "roomstate", "recordingstate",
// "track", "trackended", "servererror", "reconnecting", "reconnected",
// "closed".

export const PROTOCOL_VERSION = 1;
export const REACTIONS = ["👍", "👏", "😂", "😮", "❤️", "🎉"];

// The server keeps a dropped participant this long (docs/protocol.md).
const RESUME_WINDOW_MS = 20000;
const BACKOFF_MS = [250, 500, 1000, 2000, 3000];
// Join refusals after which trying again cannot help.
const FINAL_CODES = ["room_not_found", "room_locked", "removed",
  "access_code_required", "wrong_access_code", "protocol_error"];

/**
 * @typedef {{track_id: string, mid: string, participant_id: string,
 *   kind: string, label: string}} TrackInfo
 * @typedef {{id: string, name: string, role: string, hand_raised: boolean,
 *   microphone: boolean, camera: boolean, screen: boolean,
 *   away: boolean}} ParticipantInfo
 * @typedef {{id: string, from_id: string, from_name: string, text: string,
 *   time: number, to: string}} ChatMessage
 * @typedef {{accessCode?: string, moderatorKey?: string,
 *   ticket?: string}} JoinOptions
 * @typedef {{track: MediaStreamTrack | null, label: string,
 *   transceiver: RTCRtpTransceiver}} Published
 * @typedef {{resolve: (welcome: any) => void,
 *   reject: (error: JoinError) => void}} Pending
 */

/** A join the server refused; `code` is from the protocol's error table. */
export class JoinError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** Server messages -> the event each one is passed on as. */
const EVENTS = {
  participant_left: "participantleft",
  chat: "chat",
  reaction: "reaction",
  active_speaker: "activespeaker",
  lobby: "lobby",
  room_state: "roomstate",
  recording_state: "recordingstate",
};

const PC_CONFIG = /** @type {RTCConfiguration} */ ({
  bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });

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
    /** @type {Map<string, Published>} label -> what we publish */
    this.published = new Map();
    /** @type {Map<string, TrackInfo>} mid -> what the server sends there */
    this.receiving = new Map();
    /** "idle", "lobby", "joined", "reconnecting" or "closed" */
    this.state = "idle";
    this.participantId = "";
    this.role = "";
    this.resumeToken = "";
    /** @type {{room: string, name: string} & JoinOptions} */
    this._joinArgs = { room: "", name: "" };
    /** @type {Pending | null} */
    this._pendingJoin = null;
    /** @type {{resolve: (sdp: string) => void,
     *   reject: (error: Error) => void} | null} */
    this._pendingAnswer = null;
    this._publishing = Promise.resolve();
    this._mediaBroken = false;
    this._droppedAt = 0;
    this._attempt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this._retryTimer = undefined;
  }

  get isModerator() {
    return this.role === "moderator";
  }

  /**
   * Open the WebSocket (or reuse it after a refused join) and join a room.
   * Resolves with the welcome, also after waiting in the lobby; rejects
   * with a JoinError for a refusal, "denied", or "closed".
   * @param {string} room
   * @param {string} name
   * @param {JoinOptions} [options]
   * @returns {Promise<any>} the welcome message
   */
  join(room, name, options = {}) {
    this._joinArgs = { room, name, ...options };
    this.resumeToken = "";
    return new Promise((resolve, reject) => {
      this._pendingJoin = { resolve, reject };
      this._sendJoin().catch(() => {
        this._rejectJoin(new JoinError("closed", "connection failed"));
      });
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
      if (current && current.transceiver.currentDirection !== "stopped") {
        await current.transceiver.sender.replaceTrack(track);
        current.track = track;
        return;
      }
      const pc = this._publishConnection();
      const transceiver = pc.addTransceiver(track, { direction: "sendonly" });
      this.published.set(label, { track, label, transceiver });
      await this._offerPublish();
    });
  }

  /**
   * Send nothing under a label for now but keep its section, so turning a
   * camera back on needs no new negotiation.
   * @param {string} label
   */
  pause(label) {
    return this._serially(async () => {
      const current = this.published.get(label);
      if (!current) return;
      current.track = null;
      await current.transceiver.sender.replaceTrack(null);
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

  /**
   * What we send, for the others' interface.
   * @param {{microphone: boolean, camera: boolean, screen: boolean}} state
   */
  setMediaState(state) {
    this._send({ type: "media_state", ...state });
  }

  /**
   * @param {string} text
   * @param {string} [to] a participant id for a private message
   */
  chat(text, to) {
    this._send(to ? { type: "chat", text, to } : { type: "chat", text });
  }

  /** @param {boolean} raised */
  raiseHand(raised) {
    this._send({ type: "raise_hand", raised });
  }

  /** @param {string} emoji one of REACTIONS */
  react(emoji) {
    this._send({ type: "reaction", emoji });
  }

  /** @param {string} [participantId] omitted: everyone but us */
  mute(participantId) {
    this._send(participantId ? { type: "mute", participant_id: participantId }
      : { type: "mute" });
  }

  /** @param {string} participantId */
  stopCamera(participantId) {
    this._moderate("stop_camera", participantId);
  }

  /** @param {string} participantId */
  lowerHand(participantId) {
    this._moderate("lower_hand", participantId);
  }

  /** @param {string} participantId */
  remove(participantId) {
    this._moderate("remove", participantId);
  }

  /** @param {string} participantId */
  promote(participantId) {
    this._moderate("promote", participantId);
  }

  /** @param {string} participantId */
  admit(participantId) {
    this._moderate("admit", participantId);
  }

  /** @param {string} participantId */
  deny(participantId) {
    this._moderate("deny", participantId);
  }

  /** @param {boolean} locked */
  lock(locked) {
    this._send({ type: "lock", locked });
  }

  endMeeting() {
    this._send({ type: "end_meeting" });
  }

  startRecording() {
    this._send({ type: "start_recording" });
  }

  stopRecording() {
    this._send({ type: "stop_recording" });
  }

  /**
   * Stream the meeting live; the server says how it goes in
   * "recordingstate" events, or refuses with an error.
   * @param {string} url an rtmp:// or rtmps:// address
   * @param {string} key the stream key
   */
  startStream(url, key) {
    this._send({ type: "start_stream", url, key });
  }

  /** @param {string} streamId stop it, or take an ended one off the list */
  stopStream(streamId) {
    this._send({ type: "stop_stream", stream_id: streamId });
  }

  /** Leave the room and close everything. */
  leave() {
    this._send({ type: "leave" });
    this.close();
  }

  /** Close the session and both peer connections; safe to call twice. */
  close() {
    const wasOpen = this.state !== "closed";
    this.state = "closed";
    clearTimeout(this._retryTimer);
    if (this.socket) this.socket.close();
    this.socket = null;
    this._closeMedia();
    this._rejectJoin(new JoinError("closed", "connection closed"));
    if (wasOpen) this._emit("closed", { code: 1000, reason: "", final: true });
  }

  /**
   * @param {string} type
   * @param {string} participantId
   */
  _moderate(type, participantId) {
    this._send({ type, participant_id: participantId });
  }

  /**
   * @param {string} type
   * @param {any} detail
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

  /** @returns {Promise<WebSocket>} an open socket, new if need be */
  _open() {
    const existing = this.socket;
    if (existing && existing.readyState === WebSocket.OPEN) {
      return Promise.resolve(existing);
    }
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this.socket = socket;
      socket.onopen = () => resolve(socket);
      socket.onmessage = (event) => {
        if (this.socket !== socket) return;
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        this._handle(message);
      };
      socket.onclose = (event) => {
        reject(new Error("connection closed"));
        if (this.socket === socket) this._dropped(event);
      };
    });
  }

  async _sendJoin() {
    await this._open();
    const { room, name, accessCode, moderatorKey, ticket } = this._joinArgs;
    /** @type {Record<string, any>} */
    const message = { type: "join", room, name, protocol: PROTOCOL_VERSION };
    if (accessCode) message.access_code = accessCode;
    if (moderatorKey) message.moderator_key = moderatorKey;
    if (ticket) message.ticket = ticket;
    if (this.resumeToken) message.resume = this.resumeToken;
    this._send(message);
  }

  /** @param {JoinError} error */
  _rejectJoin(error) {
    const pending = this._pendingJoin;
    this._pendingJoin = null;
    if (pending) pending.reject(error);
  }

  /** @param {CloseEvent} event */
  _dropped(event) {
    this.socket = null;
    if (this._pendingAnswer) {
      // The answer will never come on this socket: publish again later.
      this._pendingAnswer.reject(new Error("connection closed"));
      this._pendingAnswer = null;
      this._mediaBroken = true;
    }
    if (this.state === "joined" || this.state === "reconnecting") {
      if (this.state === "joined") this._droppedAt = Date.now();
      this.state = "reconnecting";
      this._retry();
      return;
    }
    if (this.state === "closed") return;
    this.state = "closed";
    this._closeMedia();
    this._rejectJoin(new JoinError("closed", "connection closed"));
    this._emit("closed", { code: event.code, reason: event.reason,
      final: true });
  }

  /** Try to come back, with backoff, resuming while the server waits. */
  _retry() {
    const delay = BACKOFF_MS[Math.min(this._attempt, BACKOFF_MS.length - 1)];
    this._attempt += 1;
    this._emit("reconnecting", { attempt: this._attempt, delay });
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => {
      if (this.state !== "reconnecting") return;
      if (Date.now() - this._droppedAt > RESUME_WINDOW_MS) {
        this.resumeToken = "";
      }
      this._pendingJoin = {
        resolve: (welcome) => this._resumed(welcome),
        reject: (error) => this._resumeRefused(error),
      };
      this._sendJoin().catch(() => {});
    }, delay);
  }

  /** @param {any} welcome */
  _resumed(welcome) {
    this._attempt = 0;
    if (!welcome.resumed || !this._mediaHealthy()) this._resetMedia();
    this._emit("reconnected", welcome);
  }

  /** @param {JoinError} error */
  _resumeRefused(error) {
    if (error.code === "closed") return;
    if (!FINAL_CODES.includes(error.code) && this.resumeToken) {
      // The server forgot us: come back as a newcomer.
      this.resumeToken = "";
      this._retry();
      return;
    }
    this.close();
  }

  _mediaHealthy() {
    if (this._mediaBroken) return false;
    for (const pc of [this.publishConnection, this.subscribeConnection]) {
      if (pc && ["failed", "closed"].includes(pc.connectionState)) {
        return false;
      }
    }
    return true;
  }

  /** New peer connections on both sides; publish what we published. */
  _resetMedia() {
    this._send({ type: "reset_media" });
    const published = [...this.published.values()];
    this._closeMedia();
    this._mediaBroken = false;
    return this._serially(async () => {
      if (published.length === 0) return;
      const pc = this._publishConnection();
      for (const entry of published) {
        const kind = entry.label === "microphone" ? "audio" : "video";
        const transceiver = pc.addTransceiver(entry.track || kind,
          { direction: "sendonly" });
        if (entry.track) await transceiver.sender.replaceTrack(entry.track);
        this.published.set(entry.label, { ...entry, transceiver });
      }
      await this._offerPublish();
    });
  }

  _closeMedia() {
    for (const pc of [this.publishConnection, this.subscribeConnection]) {
      if (pc) pc.close();
    }
    this.publishConnection = null;
    this.subscribeConnection = null;
    this.published.clear();
    for (const info of this.receiving.values()) {
      this._emit("trackended", info);
    }
    this.receiving.clear();
  }

  _publishConnection() {
    if (!this.publishConnection) {
      const pc = new RTCPeerConnection(PC_CONFIG);
      this.publishConnection = pc;
      this._watch(pc);
    }
    return this.publishConnection;
  }

  /**
   * A connection that fails while we are in the meeting is started again.
   * @param {RTCPeerConnection} pc
   */
  _watch(pc) {
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" && this.state === "joined" &&
          (pc === this.publishConnection ||
           pc === this.subscribeConnection)) {
        this._resetMedia();
      }
    });
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
    const sdp = pc.localDescription ? pc.localDescription.sdp : "";
    this._send({ type: "publish", sdp, tracks });
    const answerSdp = await answer;
    if (pc.signalingState === "closed") return;
    await pc.setRemoteDescription({ type: "answer", sdp: answerSdp });
  }

  /** @param {any} message */
  _handle(message) {
    const handler = HANDLERS[message.type];
    if (handler) {
      handler(this, message);
      return;
    }
    const event = EVENTS[/** @type {keyof EVENTS} */ (message.type)];
    if (event) this._emit(event, message);
  }

  /**
   * @param {string} sdp
   * @param {TrackInfo[]} tracks
   */
  async _answerOffer(sdp, tracks) {
    if (!this.subscribeConnection) {
      this.subscribeConnection = new RTCPeerConnection(PC_CONFIG);
      this._watch(this.subscribeConnection);
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
    if (pc !== this.subscribeConnection || !pc.localDescription) return;
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

/**
 * Messages that change the connection's own state before they are passed on.
 * @type {Record<string, (c: MeetingConnection, message: any) => void>}
 */
const HANDLERS = {
  welcome(connection, message) {
    connection.state = "joined";
    connection.participantId = message.participant_id;
    connection.role = message.role || "attendee";
    connection.resumeToken = message.resume_token || "";
    const pending = connection._pendingJoin;
    connection._pendingJoin = null;
    connection._emit("welcome", message);
    if (pending) pending.resolve(message);
  },

  lobby_waiting(connection, message) {
    connection.state = "lobby";
    connection._emit("lobbywaiting", message);
  },

  denied(connection, message) {
    connection._rejectJoin(new JoinError("denied", message.message));
    connection._emit("denied", message);
    connection.close();
  },

  removed(connection, message) {
    connection._emit("removed", message);
    connection.close();
  },

  meeting_ended(connection, message) {
    connection._emit("meetingended", message);
    connection.close();
  },

  participant_updated(connection, message) {
    const participant = message.participant;
    if (participant && participant.id === connection.participantId) {
      connection.role = participant.role || connection.role;
    }
    connection._emit("participantupdated", participant);
  },

  participant_joined(connection, message) {
    connection._emit("participantjoined", message.participant);
  },

  muted(connection, message) {
    // Stop sending at once; the interface then turns its toggle off.
    const label = message.kind === "camera" ? "camera" : "microphone";
    const current = connection.published.get(label);
    if (current && current.track && label === "microphone") {
      current.track.enabled = false;
    } else if (current) {
      connection.pause(label);
    }
    connection._emit("muted", message);
  },

  publish_answer(connection, message) {
    const pending = connection._pendingAnswer;
    connection._pendingAnswer = null;
    if (pending) pending.resolve(message.sdp);
  },

  offer(connection, message) {
    connection._answerOffer(message.sdp, message.tracks || [])
      .catch((error) => connection._emit("servererror",
        { code: "bad_sdp", message: String(error) }));
  },

  error(connection, message) {
    if (connection._pendingAnswer && message.code === "bad_sdp") {
      connection._pendingAnswer.reject(new Error(message.message));
      connection._pendingAnswer = null;
    }
    if (connection._pendingJoin && connection.state !== "joined") {
      connection._rejectJoin(new JoinError(message.code, message.message));
    }
    connection._emit("servererror", message);
  },
};
