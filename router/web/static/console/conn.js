// The agent WebSocket: reconnects with backoff after any drop, notices a dead link by its own
// pings, and resends every reply the server has not acknowledged yet. The server accepts a
// client_msg_id once, so a resend after a drop is never shown or sent twice.
import { api } from "./dom.js";

const PING_EVERY_MS = 15000;
const PONG_WITHIN_MS = 8000;
const MAX_BACKOFF_MS = 15000;
const SIGNED_OUT = 4401; // close code: this socket's console session ended

let ws = null;
let backoff = 500;
let retry = null;
let pingTimer = null;
let pongTimer = null;
let stopped = false;
const unacked = new Map(); // client_msg_id -> frame, in the order written

export function isOpen() {
  return ws !== null && ws.readyState === WebSocket.OPEN;
}

// Replies are kept until acknowledged and sent again after a reconnect; other frames (close,
// transfer, status, requests) are sent only while connected, and the caller says so otherwise.
export function send(frame) {
  // A note too: the server writes one per client_msg_id, and an unacked copy would otherwise
  // stay on screen beside the server's after a drop.
  if (frame.type === "reply" || frame.type === "note") unacked.set(frame.client_msg_id, frame);
  if (!isOpen()) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

export function settle(clientMsgId) {
  unacked.delete(clientMsgId);
}

// The server could not take a reply yet (an error frame with `retry_after`: Redis busy or
// restarting). It stays unacknowledged and goes again after the hint; false if it is not ours.
export function retryLater(clientMsgId, seconds) {
  if (!unacked.has(clientMsgId)) return false;
  setTimeout(() => {
    const frame = unacked.get(clientMsgId);
    if (frame && isOpen()) ws.send(JSON.stringify(frame));
  }, seconds * 1000);
  return true;
}

export function connect({ onFrame, onState, onSignedOut }) {
  stopped = false;
  clearTimeout(retry);
  onState("connecting");
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const sock = new WebSocket(`${proto}://${location.host}/ws/agent`);
  ws = sock;
  sock.onopen = () => {
    backoff = 500;
    onState("online");
    for (const frame of unacked.values()) sock.send(JSON.stringify(frame));
    pingTimer = setInterval(() => {
      if (sock.readyState !== WebSocket.OPEN) return;
      sock.send(JSON.stringify({ type: "ping" }));
      clearTimeout(pongTimer);
      // No answer in time: the link is dead even if the browser has not noticed yet.
      pongTimer = setTimeout(() => sock.close(), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  };
  sock.onmessage = (e) => {
    let frame;
    try { frame = JSON.parse(e.data); } catch { return; }
    if (frame.type === "pong") { clearTimeout(pongTimer); return; }
    if (frame.type === "ack" && frame.client_msg_id) settle(frame.client_msg_id);
    onFrame(frame);
  };
  sock.onclose = async (e) => {
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    if (ws !== sock || stopped) return;
    onState("offline");
    // The server ended this session (signed out here or elsewhere): reconnecting cannot help.
    if (e.code === SIGNED_OUT) { onSignedOut(); return; }
    // A handshake refused for a dead session looks like any drop; ask the API which it was.
    try {
      await api("/api/v1/session");
    } catch (err) {
      if (err.status === 401) { onSignedOut(); return; }
    }
    const wait = backoff * (0.75 + Math.random() / 2);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    retry = setTimeout(() => connect({ onFrame, onState, onSignedOut }), wait);
  };
}

export function disconnect() {
  stopped = true;
  clearTimeout(retry);
  unacked.clear();
  if (ws) ws.close();
  ws = null;
}
