// A bare page over the protocol module: join a room, publish camera and
// microphone, show what arrives. Tests drive it through window.smeeton.

import { MeetingConnection } from "./protocol.js";

const tiles = /** @type {HTMLElement} */ (document.getElementById("tiles"));
const status = /** @type {HTMLElement} */ (document.getElementById("status"));
const form = /** @type {HTMLFormElement} */ (document.getElementById("join"));

/** @type {MeetingConnection | null} */
let connection = null;

function websocketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/**
 * @param {string} room
 * @param {string} name
 */
async function join(room, name) {
  connection = new MeetingConnection(websocketUrl());
  connection.addEventListener("track", (event) => {
    const { info, track } = /** @type {CustomEvent} */ (event).detail;
    const element = document.createElement(info.kind === "video" ?
      "video" : "audio");
    element.autoplay = true;
    element.setAttribute("playsinline", "");
    element.dataset.trackId = info.track_id;
    element.dataset.participant = info.participant_id;
    element.dataset.label = info.label;
    element.srcObject = new MediaStream([track]);
    tiles.append(element);
  });
  connection.addEventListener("trackended", (event) => {
    const info = /** @type {CustomEvent} */ (event).detail;
    const element = tiles.querySelector(`[data-track-id="${info.track_id}"]`);
    if (element) element.remove();
  });
  await connection.join(room, name);
  status.textContent = `In room ${room}`;
  const media = await navigator.mediaDevices.getUserMedia({
    audio: true, video: true });
  for (const track of media.getTracks()) {
    await connection.publish(track, track.kind === "audio" ?
      "microphone" : "camera");
  }
}

/** A moving canvas, standing in for a shared screen in tests. */
function canvasTrack() {
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 360;
  const context = /** @type {CanvasRenderingContext2D} */ (
    canvas.getContext("2d"));
  let frame = 0;
  setInterval(() => {
    context.fillStyle = `hsl(${frame % 360} 60% 40%)`;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = "#fff";
    context.fillText(`frame ${frame++}`, 20, 40);
  }, 50);
  return canvas.captureStream(20).getVideoTracks()[0];
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  join(String(data.get("room")), String(data.get("name")));
});

// @ts-ignore: a handle for tests and the console
window.smeeton = {
  join,
  shareCanvas: () => connection && connection.publish(canvasTrack(), "screen"),
  stopScreen: () => connection && connection.unpublish("screen"),
  get connection() { return connection; },
};
