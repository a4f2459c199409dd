// The home page: a host signs in, then creates, lists, edits and deletes
// rooms and copies their invite and moderator links.

import * as api from "./api.js";
import { languagePicker, register, t, translate } from "./i18n.js";
import strings from "./lang/home.js";

register(strings);

/** @type {api.Room[]} */
let rooms = [];
/** @type {string} */
let userName = "";
/** The room the open edit or delete dialog is about. */
let chosen = /** @type {api.Room | null} */ (null);

/**
 * @param {string} id
 * @returns {any}
 */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/**
 * An element with text content and attributes.
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string)[]} children
 * @returns {HTMLElement}
 */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    element.setAttribute(key, value);
  }
  element.append(...children);
  return element;
}

/** @param {string} text */
function say(text) {
  byId("status").textContent = text;
}

/**
 * The words for a failed request, in the page's language where we can.
 * @param {unknown} error
 * @returns {string}
 */
function failure(error) {
  if (error instanceof api.ApiError) {
    if (error.code === "bad_credentials") return t("badCredentials");
    return t("failed", { message: error.message });
  }
  return t("unreachable");
}

// Signing in and out.

/** @param {boolean} signedIn */
function showSignedIn(signedIn) {
  byId("sign-in-section").hidden = signedIn;
  byId("rooms-section").hidden = !signedIn;
  byId("sign-out").hidden = !signedIn;
  const who = byId("who");
  who.hidden = !signedIn;
  who.textContent = signedIn ? t("signedInAs", { name: userName }) : "";
}

/** @param {SubmitEvent} event */
async function onSignIn(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const error = byId("sign-in-error");
  error.textContent = "";
  const fields = new FormData(form);
  try {
    const info = await api.signIn(String(fields.get("name")),
      String(fields.get("password")));
    userName = info.user?.name || "";
    form.reset();
    await loadRooms();
    showSignedIn(true);
    byId("create-name").focus();
  } catch (failed) {
    error.textContent = failure(failed);
    byId("sign-in-password").select();
  }
}

async function onSignOut() {
  try {
    await api.signOut();
  } catch (failed) {
    say(failure(failed));
    return;
  }
  rooms = [];
  userName = "";
  showSignedIn(false);
  say(t("signedOut"));
  byId("sign-in-name").focus();
}

// The list of rooms.

async function loadRooms() {
  rooms = await api.listRooms();
  renderRooms();
}

function renderRooms() {
  const list = byId("rooms");
  list.replaceChildren(...rooms.map(roomItem));
  byId("no-rooms").hidden = rooms.length > 0;
}

/**
 * @param {api.Room} room
 * @returns {HTMLElement}
 */
function roomItem(room) {
  const headingId = "room-" + room.slug;
  const facts = [
    room.access_code
      ? t("accessCodeIs", { code: room.access_code })
      : t("noAccessCode"),
    room.lobby ? t("lobbyOn") : t("lobbyOff"),
    ...(room.auto_record ? [t("autoRecordOn")] : []),
  ].join(" · ");

  const edit = el("button", { type: "button",
    "aria-label": t("editRoom", { name: room.name }) }, t("edit"));
  edit.dataset.edit = room.slug;
  edit.addEventListener("click", () => openEdit(room));
  const remove = el("button", { type: "button", class: "danger",
    "aria-label": t("deleteRoom", { name: room.name }) }, t("delete"));
  remove.addEventListener("click", () => openDelete(room));
  const open = el("a", { href: room.moderator_url, class: "button",
    "aria-label": t("openRoomOf", { name: room.name }) }, t("openRoom"));

  return el("li", { class: "room card", "aria-labelledby": headingId },
    el("h3", { id: headingId }, room.name),
    el("p", { class: "facts" }, facts),
    linkRow(t("inviteLink"), room.invite_url,
      t("copyInvite", { name: room.name })),
    linkRow(t("moderatorLink"), room.moderator_url,
      t("copyModerator", { name: room.name })),
    el("p", { class: "hint" }, t("moderatorHint")),
    el("div", { class: "actions" }, open, edit, remove),
    recordingsOf(room));
}

// A room's recordings, loaded when the host opens the list.

/**
 * @param {api.Room} room
 * @returns {HTMLElement}
 */
function recordingsOf(room) {
  const list = el("ul", { class: "recordings" });
  const note = el("p", { class: "hint", role: "status" });
  const details = el("details", { class: "recordings-box" },
    el("summary", {}, t("recordings")), note, list);
  const load = async () => {
    note.textContent = t("loadingRecordings");
    try {
      const found = await api.listRecordings(room.slug);
      list.replaceChildren(...found.map((r) => recordingItem(r, load)));
      note.textContent = found.length ? "" : t("noRecordings");
    } catch (error) {
      note.textContent = failure(error);
    }
  };
  details.addEventListener("toggle", () => {
    if (/** @type {HTMLDetailsElement} */ (details).open) load();
  });
  return details;
}

/**
 * @param {api.Recording} recording
 * @param {() => void} reload
 * @returns {HTMLElement}
 */
function recordingItem(recording, reload) {
  const when = new Date(recording.started * 1000).toLocaleString();
  const facts = [when, clock(recording.duration),
    megabytes(recording.size)];
  if (recording.status === "recording") facts.push(t("stillRecording"));
  const player = el("div", { class: "player" });
  const play = el("button", { type: "button",
    "aria-label": t("playRecording", { when }) }, t("play"));
  play.addEventListener("click", () => {
    if (player.firstChild) {
      player.replaceChildren();
      return;
    }
    const video = el("video", { src: recording.url, controls: "",
      preload: "metadata", "aria-label": t("recordingOf", { when }) });
    player.replaceChildren(video);
    /** @type {HTMLVideoElement} */ (video).play().catch(() => {});
  });
  const download = el("a", { href: recording.url, class: "button",
    download: "", "aria-label": t("downloadRecording", { when }) },
  t("download"));
  const remove = el("button", { type: "button", class: "danger",
    "aria-label": t("deleteRecording", { when }) }, t("delete"));
  let asked = false;
  remove.addEventListener("click", async () => {
    // The first press asks; the second deletes.
    if (!asked) {
      asked = true;
      remove.textContent = t("pressAgainToDelete");
      return;
    }
    try {
      await api.deleteRecording(recording);
      say(t("recordingDeleted", { when }));
      reload();
    } catch (error) {
      say(failure(error));
    }
  });
  const busy = recording.status === "recording";
  if (busy) remove.setAttribute("disabled", "");
  return el("li", { class: "recording" },
    el("span", { class: "facts" }, facts.join(" · ")),
    el("div", { class: "actions" }, play, download, remove), player);
}

/**
 * @param {number} seconds
 * @returns {string} like 1:02:03 or 4:05
 */
function clock(seconds) {
  const s = Math.round(seconds);
  const parts = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
  const [h, m, sec] = parts.map((n) => String(n).padStart(2, "0"));
  return parts[0] ? `${parts[0]}:${m}:${sec}` : `${parts[1]}:${sec}`;
}

/**
 * @param {number} bytes
 * @returns {string}
 */
function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * A labelled link with a button that copies it.
 * @param {string} label
 * @param {string} url
 * @param {string} copyLabel
 * @returns {HTMLElement}
 */
function linkRow(label, url, copyLabel) {
  const link = el("a", { href: url, class: "url" }, url);
  const copy = el("button", { type: "button", "aria-label": copyLabel },
    t("copy"));
  copy.addEventListener("click", () => copyText(url));
  return el("div", { class: "link" },
    el("span", { class: "link-label" }, label), link, copy);
}

/** @param {string} text */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    say(t("copied"));
  } catch {
    // The clipboard API needs a secure context and permission; say how.
    say(t("copyFailed"));
  }
}

// Creating, editing and deleting.

/**
 * The room fields of a form, with an empty access code meaning none.
 * @param {HTMLFormElement} form
 */
function roomFields(form) {
  const fields = new FormData(form);
  const code = String(fields.get("access_code") || "").trim();
  return {
    name: String(fields.get("name") || "").trim(),
    access_code: code || null,
    lobby: fields.get("lobby") === "on",
    auto_record: fields.get("auto_record") === "on",
  };
}

/** @param {SubmitEvent} event */
async function onCreate(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const error = byId("create-error");
  error.textContent = "";
  try {
    const room = await api.createRoom(roomFields(form));
    rooms.push(room);
    renderRooms();
    form.reset();
    say(t("created", { name: room.name }));
  } catch (failed) {
    error.textContent = failure(failed);
  }
}

/** @param {api.Room} room */
function openEdit(room) {
  chosen = room;
  byId("edit-name").value = room.name;
  byId("edit-code").value = room.access_code || "";
  byId("edit-lobby").checked = room.lobby;
  byId("edit-auto-record").checked = room.auto_record;
  byId("edit-error").textContent = "";
  byId("edit-dialog").showModal();
}

/** @param {SubmitEvent} event */
async function onEdit(event) {
  event.preventDefault();
  if (!chosen) return;
  const slug = chosen.slug;
  try {
    const room = await api.editRoom(slug,
      roomFields(/** @type {HTMLFormElement} */ (event.target)));
    rooms = rooms.map((old) => (old.slug === slug ? room : old));
    byId("edit-dialog").close();
    renderRooms();
    say(t("saved", { name: room.name }));
    /** @type {HTMLElement | null} */ (document.querySelector(
      `[data-edit="${CSS.escape(slug)}"]`))?.focus();
  } catch (failed) {
    byId("edit-error").textContent = failure(failed);
  }
}

/** @param {api.Room} room */
function openDelete(room) {
  chosen = room;
  byId("delete-question").textContent =
    t("confirmDelete", { name: room.name });
  byId("delete-dialog").showModal();
  // The safe choice has the focus, so Enter alone does not delete.
  byId("delete-cancel").focus();
}

async function onDelete() {
  if (!chosen) return;
  const room = chosen;
  byId("delete-dialog").close();
  try {
    await api.deleteRoom(room.slug);
  } catch (failed) {
    say(failure(failed));
    return;
  }
  rooms = rooms.filter((other) => other.slug !== room.slug);
  renderRooms();
  say(t("deleted", { name: room.name }));
  byId("rooms-heading").focus();
}

// Start.

async function start() {
  byId("language").append(languagePicker());
  translate();
  document.addEventListener("languagechange", () => {
    showSignedIn(!byId("rooms-section").hidden);
    renderRooms();
  });

  byId("sign-in").addEventListener("submit", onSignIn);
  byId("sign-out").addEventListener("click", onSignOut);
  byId("create-room").addEventListener("submit", onCreate);
  byId("edit-room").addEventListener("submit", onEdit);
  byId("edit-cancel").addEventListener("click",
    () => byId("edit-dialog").close());
  byId("delete-confirm").addEventListener("click", onDelete);
  byId("delete-cancel").addEventListener("click",
    () => byId("delete-dialog").close());

  try {
    const info = await api.session();
    userName = info.user?.name || "";
    if (info.signed_in) await loadRooms();
    showSignedIn(info.signed_in);
  } catch (failed) {
    showSignedIn(false);
    say(failure(failed));
  }
}

start();
