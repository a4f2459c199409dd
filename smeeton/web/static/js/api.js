// The REST API of /api/v1 for the home page: signing in and a host's
// rooms. No DOM code here; the page builds its interface on top.

/**
 * @typedef {object} Room
 * @property {string} slug
 * @property {string} name
 * @property {string | null} access_code
 * @property {boolean} lobby
 * @property {boolean} auto_record recording starts with the first arrival
 * @property {string} invite_url
 * @property {string} moderator_url
 * @property {string} created_at
 */

/**
 * @typedef {object} Recording
 * @property {string} id
 * @property {string} room
 * @property {number} started seconds since 1970
 * @property {number} duration seconds
 * @property {number} size bytes
 * @property {string} status "recording", "complete" or "interrupted"
 * @property {string} url where it plays and downloads
 */

/**
 * @typedef {object} SessionInfo
 * @property {boolean} signed_in
 * @property {{id: number, name: string} | null} user
 */

/** A refusal from the server, with its status and error code. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * One request; the parsed JSON answer, or null for 204 No Content.
 * @param {string} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<any>}
 */
async function call(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, data.error || "http_error",
      data.message || response.statusText);
  }
  return data;
}

/** @returns {Promise<SessionInfo>} */
export function session() {
  return call("GET", "/session");
}

/**
 * @param {string} name
 * @param {string} password
 * @returns {Promise<SessionInfo>}
 */
export function signIn(name, password) {
  return call("POST", "/session", { name, password });
}

/** @returns {Promise<SessionInfo>} */
export function signOut() {
  return call("DELETE", "/session");
}

/** @returns {Promise<Room[]>} */
export async function listRooms() {
  return (await call("GET", "/rooms")).rooms;
}

/**
 * @typedef {object} RoomFields
 * @property {string} [name]
 * @property {string | null} [access_code]
 * @property {boolean} [lobby]
 * @property {boolean} [auto_record]
 */

/**
 * @param {RoomFields & {name: string}} fields
 * @returns {Promise<Room>}
 */
export function createRoom(fields) {
  return call("POST", "/rooms", fields);
}

/**
 * @param {string} slug
 * @param {RoomFields} fields
 * @returns {Promise<Room>}
 */
export function editRoom(slug, fields) {
  return call("PATCH", "/rooms/" + encodeURIComponent(slug), fields);
}

/**
 * @param {string} slug
 * @returns {Promise<null>}
 */
export function deleteRoom(slug) {
  return call("DELETE", "/rooms/" + encodeURIComponent(slug));
}

/**
 * A room's recordings, newest first.
 * @param {string} slug
 * @returns {Promise<Recording[]>}
 */
export async function listRecordings(slug) {
  const path = `/rooms/${encodeURIComponent(slug)}/recordings`;
  return (await call("GET", path)).recordings;
}

/**
 * @param {Recording} recording
 * @returns {Promise<null>}
 */
export function deleteRecording(recording) {
  const path = `/rooms/${encodeURIComponent(recording.room)}/recordings/` +
    encodeURIComponent(recording.id);
  return call("DELETE", path);
}
