// The console's model: the agent, their conversations and each one's messages, keyed by id so
// that a frame seen twice (replay after a reconnect) changes nothing.
import { now } from "./dom.js";

export const state = {
  me: null, // {id, name, role, status}
  convs: new Map(), // id -> Conv
  current: null,
  deliveries: new Map(), // message id -> {status, reason}, for a delivery frame ahead of its ack
  agents: [],
  pools: [],
};

const listeners = new Set();
export const onChange = (fn) => listeners.add(fn);
export function changed(what, id) {
  for (const fn of listeners) fn(what, id);
}

// A customer without a name (a web visitor) is shown by the tail of their id, which stays stable.
export function customerName(conv, visitorWord) {
  const cust = conv.customer || {};
  if (cust.name) return cust.name;
  const id = conv.customer_id || cust.id || conv.id || "";
  return `${visitorWord} ${id.slice(-6)}`;
}

export function isSupervisor() {
  return state.me && (state.me.role === "supervisor" || state.me.role === "admin");
}

// Merge an `assigned` frame; returns true when the conversation is new to this console.
export function upsertConversation(conversation, messages) {
  const prev = state.convs.get(conversation.id);
  const c = prev || { messages: new Map(), unread: 0, typingUntil: 0 };
  c.conv = conversation;
  c.seenAt = now();
  for (const m of messages) addTo(c, m, !prev);
  state.convs.set(conversation.id, c);
  return !prev;
}

function addTo(c, m, fresh) {
  if (c.messages.has(m.id)) return false;
  const d = state.deliveries.get(m.id);
  if (d && !m.delivery) m.delivery = d;
  c.messages.set(m.id, m);
  if (m.from === "customer" && (fresh || c.conv.id !== state.current)) c.unread += 1;
  if (m.from === "customer") c.typingUntil = 0;
  return true;
}

export function addMessage(cid, m) {
  const c = state.convs.get(cid);
  return c ? addTo(c, m, false) : false;
}

// The ack gives our optimistic copy its server id; if the server's copy came first, drop ours.
export function ackMessage(cid, clientMsgId, messageId) {
  for (const c of cid ? [state.convs.get(cid)] : state.convs.values()) {
    if (!c) continue;
    const mine = c.messages.get(clientMsgId);
    if (!mine) continue;
    c.messages.delete(clientMsgId);
    if (c.messages.has(messageId)) return c.conv.id;
    mine.id = messageId;
    mine.delivery = state.deliveries.get(messageId) || { status: "sending" };
    c.messages.set(messageId, mine);
    return c.conv.id;
  }
  return null;
}

export function setDelivery(messageId, delivery) {
  state.deliveries.set(messageId, delivery);
  for (const c of state.convs.values()) {
    const m = c.messages.get(messageId);
    if (m) { m.delivery = delivery; return c.conv.id; }
  }
  return null;
}

export function removeConversation(cid) {
  state.convs.delete(cid);
  if (state.current === cid) state.current = null;
}

// When the agent last heard from the customer without answering, or null when it is their turn.
export function waitingSince(c) {
  let since = null;
  for (const m of c.messages.values()) {
    if (m.from === "customer") since ??= m.ts;
    else if (m.from === "agent") since = null;
  }
  return since;
}

// The SLA target that runs out first: [name, due] among first response, next response and
// resolution; null when none runs.
function slaTarget(sla) {
  if (!sla || sla.state === "none" || sla.state === "met") return null;
  const running = [
    ["first_response", !sla.first_response_at && sla.first_response_due],
    ["next_response", sla.next_response_due],
    ["resolution", !sla.resolved_at && sla.resolution_due],
  ].filter(([, due]) => typeof due === "number");
  running.sort((a, b) => a[1] - b[1]);
  return running[0] || null;
}

export function slaDue(conv) {
  return slaTarget(conv.sla)?.[1] ?? null;
}

// green while there is time; amber once the server has warned about the running target (its
// warn_at) or in the target's last fifth; red once breached or overdue.
export function slaLevel(conv, at = now()) {
  const sla = conv.sla;
  if (!sla || sla.state === "none") return null;
  if (sla.state === "breached") return "red";
  const target = slaTarget(sla);
  if (!target) return sla.state === "met" ? "met" : null;
  const [name, due] = target;
  const left = due - at;
  if (left <= 0) return "red";
  const start = sla.started || conv.assigned_at || conv.created || at;
  return sla.warned?.[name] || left <= (due - start) / 5 ? "amber" : "green";
}

// Most urgent first: breached, then least SLA time left, then longest waiting, VIPs ahead of ties.
export function urgency(c, at = now()) {
  const due = slaDue(c.conv);
  const breached = c.conv.sla?.state === "breached" || (due !== null && due <= at);
  const since = waitingSince(c);
  const vip = (c.conv.customer?.segment || "") === "vip";
  return [breached ? 0 : 1, due ?? Infinity, since ?? Infinity, vip ? 0 : 1, -(c.conv.updated || 0)];
}

export function sorted(at = now()) {
  const keyed = [...state.convs.values()].map((c) => [urgency(c, at), c]);
  keyed.sort((a, b) => {
    for (let i = 0; i < a[0].length; i++) if (a[0][i] !== b[0][i]) return a[0][i] < b[0][i] ? -1 : 1;
    return 0;
  });
  return keyed.map(([, c]) => c);
}
