// Small DOM and HTTP helpers. Text always goes in through textContent: customer text is data.
import { refusalText, statusText } from "./refusals.js";

export const $ = (id) => document.getElementById(id);

// A customer's avatar the console may show: a channel's https picture (WeChat), or one the router
// keeps in its media store (Telegram's, whose own URL would carry the bot token).
export const isAvatar = (url) => typeof url === "string" &&
  (/^https:\/\//.test(url) || /^\/api\/v1\/media\/md_[0-9a-f]{32}$/.test(url));

export function el(tag, cls, text, attrs) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// Its message is the refusal in the console's language, so every `toast(err.message)` is too.
export class HttpError extends Error {
  constructor(status, body) {
    super(refusalText(body, statusText(status)));
    this.status = status;
    this.body = body;
  }
}

// JSON over fetch with the session cookie. A 404 means "this server does not have it yet":
// callers hide the panel instead of showing an error.
export async function api(path, { method = "GET", body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["Content-Type"] ??= "application/json";
  }
  const r = await fetch(path, init);
  if (raw) return r;
  const data = r.headers.get("Content-Type")?.includes("json") ? await r.json() : null;
  if (!r.ok) throw new HttpError(r.status, data);
  return data;
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function clock(ts) {
  if (!ts) return "";
  const d = new Date(ts * 1000);
  const same = d.toDateString() === new Date().toDateString();
  return same ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString([], { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

export const now = () => Date.now() / 1000;

// A redraw between a press and its release replaces what was pressed (or moves it), and the
// browser then fires no click: a list that redraws on a timer or on frames loses clicks. The
// function returned says "hold still" while a pointer is down on one of `nodes`; a redraw that
// it held back runs once the click is through. HOLD_MS bounds a press whose release never comes.
const HOLD_MS = 3000;
export function pressHold(nodes, redraw) {
  let pressedAt = 0;
  let owed = false;
  for (const n of nodes) n.addEventListener("pointerdown", () => { pressedAt = Date.now(); });
  // After the release, not in it: the click follows pointerup and must find what was pressed.
  const release = () => {
    if (!pressedAt) return;
    pressedAt = 0;
    if (owed) { owed = false; setTimeout(redraw); }
  };
  window.addEventListener("pointerup", release, true);
  window.addEventListener("pointercancel", release, true);
  return () => {
    owed = pressedAt > 0 && Date.now() - pressedAt < HOLD_MS;
    return owed;
  };
}

// Whether `node` is to be drawn again to show `shown` (any JSON value): false when it shows that
// already. Parts redrawn on every frame are left alone when unchanged, since a redraw drops a
// selection the agent is making in them (an id, to copy).
export function stale(node, shown) {
  const key = JSON.stringify(shown);
  if (node.dataset.shown === key) return false;
  node.dataset.shown = key;
  return true;
}

// `link` ({href, label}): one place the toast offers to go, e.g. the conversation it is about.
export function toast(text, kind = "info", link = null) {
  const box = $("toasts");
  const item = el("div", `toast ${kind}`, text, { role: kind === "error" ? "alert" : "status" });
  if (link) item.append(" ", el("a", "toast-link", link.label, { href: link.href }));
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

// A short two-tone beep made by WebAudio: no sound file to fetch, nothing for the CSP to allow.
let audio = null;
export function unlockAudio() {
  if (!audio && window.AudioContext) audio = new AudioContext();
}
// The header's Sound switch (console/notify.js) keeps its choice under this key.
export function beep() {
  if (!audio || localStorage.getItem("kefu.sound") === "off") return;
  const t0 = audio.currentTime;
  for (const [freq, at] of [[880, 0], [1320, 0.12]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0 + at);
    gain.gain.exponentialRampToValueAtTime(0.2, t0 + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.1);
    osc.connect(gain).connect(audio.destination);
    osc.start(t0 + at);
    osc.stop(t0 + at + 0.11);
  }
}

// The text of `source` with each [start, end) span wrapped in <mark>, built node by node.
// Offsets count code points, as the server (Python) does, not UTF-16 units: emoji stay whole.
export function marked(source, spans) {
  const chars = Array.from(source);
  const cut = (a, b) => chars.slice(a, b).join("");
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const { start, end } of [...spans].sort((a, b) => a.start - b.start)) {
    if (start < at) continue;
    frag.append(cut(at, start), el("mark", "", cut(start, end)));
    at = end;
  }
  frag.append(cut(at));
  return frag;
}
