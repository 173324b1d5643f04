// The customer web chat: session and history in localStorage, resumed with last_seen; every
// message shown once (deduped by id); customer, agent and bot text always rendered as text.
import { applyStrings, fmt, loadStrings, pickLanguage, refusalText } from "./chat-i18n.js";
import { listenToShop } from "./chat-embed.js";
import { EmojiPicker } from "./chat-emoji.js";
import { Attachments } from "./chat-media.js";
import { Panels } from "./chat-panels.js";
import { brand, handoffButton, hideWelcome, loadStart, showWelcome } from "./chat-welcome.js";

const KEY = "kefu.chat.v1";
const TYPING_SEND_MS = 3000; // a `typing` frame at most this often while the customer types
const TYPING_SHOW_MS = 6000; // the agent's indicator fades this long after their last frame
const HANDOFF_WAIT_MS = 15000; // 转人工 waits this long for a queue or agent frame before it is offered again
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const embedded = params.get("embed") === "1";

const state = JSON.parse(localStorage.getItem(KEY) || "null") || {};
state.messages ||= [];
state.rated ||= {};
state.agents ||= {}; // agent id -> name, from `agent` frames, so each bubble says who wrote it
state.avatars ||= {}; // agent id -> picture URL, for agents who have one (else their initials)
const seen = new Set(state.messages.map((m) => m.id || m.client_msg_id));
let T, panels, files, ws = null, backoff = 500, lastTypingSent = 0, typingTimer = 0, refusedInARow = 0;
let askingForPerson = false; // 转人工 was pressed and no queue or agent frame has answered yet

function save() {
  state.messages = state.messages.slice(-300);
  localStorage.setItem(KEY, JSON.stringify(state));
}

function render(m) {
  const li = document.createElement("li");
  if (m.notice) {
    li.className = "notice";
    li.textContent = m.text;
    if (m.agent_id) { // "客服 X 已接入" with their face
      li.classList.add("with-agent");
      li.prepend(avatar(m, true));
    }
  } else {
    hideWelcome(); // the card is for before the first message
    li.className = `msg from-${m.from}`;
    if (m.pending) li.classList.add("pending");
    li.dataset.id = m.id || m.client_msg_id;
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = m.text;
    if (m.from === "agent") li.append(avatar(m));
    li.append(senderLine(m));
    if (m.text || !(m.media || m.upload)) li.append(body);
    files.show(m, li);
    if (m.failed) markFailed(li, m.failed);
  }
  $("log").append(li);
  li.scrollIntoView({ block: "end" });
}

// Who wrote a bubble and when: "客服 Alice · 10:02", "智能助手 · 10:01", "我 · 10:00".
function senderLine(m) {
  const who = m.from === "customer" ? T.you : m.from === "bot" ? T.bot_name
    : m.from === "agent" ? fmt(T.agent_name, { name: m.agent_name || state.agents[m.agent_id] || state.conv?.agent?.name || T.agent_word })
      : T.system_name;
  const line = document.createElement("div");
  line.className = "sender";
  const name = document.createElement("span");
  name.className = "who";
  name.textContent = who;
  line.append(name);
  if (m.ts) {
    const time = document.createElement("time");
    time.dateTime = new Date(m.ts * 1000).toISOString();
    time.textContent = new Date(m.ts * 1000).toLocaleTimeString(T.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    line.append(" · ", time);
  }
  if (m.from === "customer" && isRead(m)) line.append(receipt());
  return line;
}

// The agent's picture when they have one, else their initials ("A", "王"); the name beside it
// says who it is, so the picture itself is decoration for a screen reader.
// `quiet`: initials drawn by CSS (data-initials), so a notice's text stays its sentence alone.
function avatar(m, quiet = false) {
  const url = state.avatars[m.agent_id];
  const name = m.agent_name || state.agents[m.agent_id] || state.conv?.agent?.name || "";
  const el = document.createElement(url ? "img" : "span");
  el.className = "avatar";
  el.setAttribute("aria-hidden", "true");
  if (m.agent_id) el.dataset.agent = m.agent_id;
  if (url) {
    el.src = url;
    el.alt = "";
    // A picture removed since (its file is gone): the initials, as for an agent without one.
    el.addEventListener("error", () => { delete state.avatars[m.agent_id]; save(); el.replaceWith(avatar(m, quiet)); }, { once: true });
  } else if (quiet) el.dataset.initials = initials(name || T.agent_word);
  else el.textContent = initials(name || T.agent_word);
  return el;
}

function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  if (/^[\p{Script=Han}]/u.test(words[0])) return [...words[0]][0];
  return words.slice(0, 2).map((w) => [...w][0].toUpperCase()).join("");
}

// Read receipts: the agent's console saw every customer message up to `state.read` (message ids
// grow with time, so one id says it for all before it). Pending messages have no server id yet.
function isRead(m) {
  return Boolean(state.read && m.id && !m.pending && m.id.startsWith("m_") && m.id <= state.read);
}

function receipt() {
  const r = document.createElement("span");
  r.className = "receipt";
  r.textContent = T.read;
  return r;
}

function markRead(upTo) {
  if (!upTo || (state.read && upTo <= state.read)) return;
  state.read = upTo;
  save();
  for (const m of state.messages) {
    if (m.from !== "customer" || !isRead(m)) continue;
    const line = document.querySelector(`.msg[data-id="${CSS.escape(m.id)}"] .sender`);
    if (line && !line.querySelector(".receipt")) line.append(receipt());
  }
}

function conversationChanged() { handoffButton(T, state.conv, askingForPerson); }

function markFailed(li, detail) {
  li.classList.remove("pending");
  li.classList.add("failed");
  const why = document.createElement("span");
  why.className = "why";
  why.textContent = fmt(T.error, { detail });
  li.append(why);
}

// The server refused this message (too long, say): resending cannot help, so it stops being pending.
// An error with `retry_after` (busy, restarting) is not a refusal: the message stays pending and
// goes again after the hint; its client_msg_id makes a second arrival a no-op.
function refused(f) {
  const m = state.messages.find((x) => x.pending && x.client_msg_id === f.ref);
  if (!m) return false;
  if (f.retry_after) {
    setTimeout(() => { if (m.pending) sendFrame(messageFrame(m)); }, f.retry_after * 1000);
    return true;
  }
  m.pending = false;
  m.failed = refusalText(T, f, f.detail);
  save();
  const li = document.querySelector(`[data-id="${CSS.escape(f.ref)}"]`);
  if (li) markFailed(li, m.failed);
  return true;
}

// A notice is kept with the history, once per key, so a reload shows the same story.
function notice(key, text, extra = {}) {
  if (seen.has(key)) return;
  seen.add(key);
  const m = { id: key, notice: true, text, ts: Date.now() / 1000, ...extra };
  state.messages.push(m);
  save();
  render(m);
}

function showStatus(text) {
  $("status").hidden = !text;
  $("status").textContent = text || "";
}

function queueText(f) {
  if (f.eta_s < 0) return T.queue_nobody; // nobody online: no "you are next" beside it
  const head = f.position <= 1 ? T.queue_next : fmt(T.queue_ahead, { ahead: f.position - 1 });
  const tail = f.eta_s > 0 ? fmt(T.queue_eta, { min: Math.ceil(f.eta_s / 60) }) : "";
  return head + tail;
}

// The queue line, and with nobody online (in hours) the leave-a-message form.
function showQueue(f) {
  showStatus(queueText(f));
  if (f.eta_s < 0 && !state.leftMessage) panels.nobodyOnline(); // asked once: a message left is enough
}

function setAgent(cid, agent) {
  state.conv = { id: cid, state: "assigned", agent };
  state.agents[agent.id] = agent.name;
  if ((state.avatars[agent.id] || "") !== (agent.avatar || "")) {
    // A new picture, or one removed since (initials again): every face of theirs on the page
    // follows, also those drawn from history before this frame came.
    if (agent.avatar) state.avatars[agent.id] = agent.avatar;
    else delete state.avatars[agent.id];
    for (const old of document.querySelectorAll(`#log .avatar[data-agent="${CSS.escape(agent.id)}"]`)) {
      old.replaceWith(avatar({ agent_id: agent.id, agent_name: agent.name }, old.parentElement?.classList.contains("notice")));
    }
  }
  state.leftMessage = false;
  askingForPerson = false;
  save();
  panels.hideLeave();
  showStatus(fmt(T.agent, { name: agent.name }));
  conversationChanged();
  notice(`agent:${cid}:${agent.id}`, fmt(T.agent_joined, { name: agent.name }), { agent_id: agent.id, agent_name: agent.name });
}

function closed(cid) {
  state.conv = { ...(state.conv || {}), id: cid, state: "closed" };
  save();
  showStatus("");
  hideTyping();
  conversationChanged();
  notice(`closed:${cid}`, T.closed);
  if (!state.rated[cid]) panels.askRating(cid);
}

// Whether anyone can answer now: the page starts from GET /api/v1/webchat/widget and the socket
// pushes each change. Nobody (in hours or not): the leave-a-message form, with a notice; someone
// again: the form goes, with a notice. Never the form while an agent has the chat (issue 19).
let available = null;
function availabilityChanged(now) {
  const was = available;
  available = now;
  if (was === null || was === now) return; // what the page already shows
  const withAgent = state.conv?.state === "assigned";
  if (now === "online") {
    if (!withAgent) panels.hideLeave();
    if (state.conv?.state === "queued") showStatus(T.avail_online);
    if (!withAgent) notice(`avail:${Date.now()}`, T.avail_online);
    return;
  }
  if (withAgent) return; // their agent is still here; if they leave, `agent_left` says so first
  if (state.conv?.state === "queued") showStatus(T.queue_nobody);
  notice(`avail:${Date.now()}`, now === "off_hours" ? T.avail_off_hours : T.avail_nobody);
  if (!state.leftMessage) panels.nobodyOnline(now === "off_hours");
}

function hideTyping() { clearTimeout(typingTimer); $("typing").hidden = true; }

function onFrame(f) {
  switch (f.type) {
    case "ack": {
      const m = state.messages.find((x) => x.client_msg_id === f.client_msg_id);
      if (m) { m.id = f.message_id; m.pending = false; save(); }
      if (m && isRead(m)) document.querySelector(`[data-id="${CSS.escape(f.client_msg_id)}"] .sender`)?.append(receipt());
      const li = document.querySelector(`[data-id="${CSS.escape(f.client_msg_id)}"]`);
      if (li) { li.classList.remove("pending"); li.dataset.id = f.message_id; }
      seen.add(f.message_id);
      break;
    }
    case "message": {
      const m = f.message;
      if (m.from === "agent") hideTyping();
      if (m.from === "bot") panels.noticeShown(m.text);
      if (seen.has(m.id)) return;
      seen.add(m.id);
      state.messages.push(m);
      state.lastSeen = m.id;
      save();
      render(m);
      // The page that framed us shows a dot while the chat is minimised; the payload says nothing.
      if (embedded && m.from !== "customer") parent.postMessage({ kefu: "unread" }, "*");
      break;
    }
    case "conversation": {
      const c = f.conversation;
      if (!c) break;
      markRead(c.read);
      if (c.state === "closed") { if (c.rated) state.rated[c.id] ||= "rated"; closed(c.id); }
      else if (c.state === "assigned" && c.agent) setAgent(c.id, c.agent);
      else if (c.state === "queued" && c.queue) showQueue(c.queue); // queue frames are not replayed
      if (c.state === "queued" || c.state === "bot") { state.conv = { id: c.id, state: c.state }; save(); conversationChanged(); }
      break;
    }
    case "queue":
      state.conv = { id: f.conversation_id, state: "queued" };
      askingForPerson = false;
      conversationChanged();
      showQueue(f);
      if (f.conversation_id === panels.cid) panels.hideRating(); // reopened before it was rated
      break;
    case "agent": panels.hideRating(); setAgent(f.conversation_id, f.agent); break;
    // A supervisor joined beside the agent: their bubbles carry their own name (agent_name).
    case "agent_joined":
      state.agents[f.agent.id] = f.agent.name;
      if (f.agent.avatar) state.avatars[f.agent.id] = f.agent.avatar;
      save();
      notice(`joined:${f.conversation_id}:${f.agent.id}`, fmt(T.supervisor_joined, { name: f.agent.name }),
        { agent_id: f.agent.id, agent_name: f.agent.name });
      break;
    case "agent_left":
      hideTyping();
      // Back in the queue: no agent has it now, so the page may offer the form again.
      if (state.conv?.id === f.conversation_id) { state.conv = { id: f.conversation_id, state: "queued" }; save(); conversationChanged(); }
      notice(`left:${f.conversation_id}:${Date.now()}`, T.agent_left);
      showStatus(T.agent_left);
      if (available && available !== "online" && !state.leftMessage) panels.nobodyOnline(available === "off_hours");
      break;
    case "availability": availabilityChanged(f.availability); break;
    case "closed": closed(f.conversation_id); break;
    case "typing": {
      const name = state.conv?.agent?.name;
      $("typing").textContent = name ? fmt(T.typing, { name }) : T.typing_anon;
      $("typing").hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
      break;
    }
    case "off_hours":
      // Said before an agent took the chat (a frame in flight): no longer true, so not shown.
      if (state.conv?.state === "assigned" && state.conv.id === f.conversation_id) break;
      panels.offHours(f, (text) => state.messages.some((m) => m.from === "bot" && m.text === text)); break;
    case "read": markRead(f.message_id); break;
    case "csat_recorded": panels.rated(f.conversation_id); save(); break;
    case "error": if (!refused(f)) panels.ratingRefused(f); break;
  }
}

async function connect() {
  if (!state.session) {
    const r = await fetch("/api/v1/webchat/sessions", { method: "POST" });
    state.session = (await r.json()).session;
    save();
  }
  const q = new URLSearchParams({ session: state.session });
  if (state.lastSeen) q.set("last_seen", state.lastSeen);
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/chat?${q}`);
  let opened = false;
  ws.onopen = () => {
    opened = true;
    refusedInARow = 0;
    backoff = 500;
    $("conn").textContent = T.online;
    $("conn").className = "conn online";
    for (const m of state.messages.filter((x) => x.pending && !x.upload)) sendFrame(messageFrame(m));
  };
  ws.onmessage = (e) => onFrame(JSON.parse(e.data));
  ws.onclose = async () => {
    $("conn").textContent = T.offline;
    $("conn").className = "conn offline";
    if (!opened && ++refusedInARow >= 3 && (await serverUp())) {
      // The server answers but keeps refusing the socket: the session expired or its signing
      // secret changed. Only then start a new one; a server that is down keeps the session.
      state.session = null;
      state.lastSeen = null;
      refusedInARow = 0;
      save();
    }
    retry();
  };
}

async function serverUp() {
  try { return (await fetch("/healthz", { cache: "no-store" })).ok; } catch { return false; }
}

function retry() {
  setTimeout(() => connect().catch(retry), backoff);
  backoff = Math.min(backoff * 2, 10000);
}

const messageFrame = (m) => ({ type: "message", text: m.text, client_msg_id: m.client_msg_id,
                                ...(m.media_id ? { media_id: m.media_id } : {}), ...(m.name ? { name: m.name } : {}) });

function sendFrame(frame) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

// Kept as pending until acked; a reconnect sends it again and the server accepts it once.
// `name`: what the customer typed as their name in a form, for the agents to call them by.
function sendMessage(text, name) {
  const m = { client_msg_id: crypto.randomUUID(), from: "customer", text, ts: Date.now() / 1000, pending: true,
              ...(name ? { name } : {}) };
  seen.add(m.client_msg_id);
  state.messages.push(m);
  save();
  render(m);
  sendFrame(messageFrame(m));
  return m.client_msg_id;
}

function wire() {
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    sendMessage(text);
    $("text").value = "";
    lastTypingSent = 0;
  });
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("text").addEventListener("input", () => {
    if (!$("text").value.trim() || Date.now() - lastTypingSent < TYPING_SEND_MS) return;
    if (sendFrame({ type: "typing" })) lastTypingSent = Date.now();
  });
  new EmojiPicker($("emoji"), $("emoji-pop"), $("text"));
  // The same request as typing 转人工: the bot hands off, the rules route it to a person.
  $("handoff").addEventListener("click", () => {
    askingForPerson = true;
    conversationChanged();
    sendMessage(T.handoff_text);
    // No answer (the message refused, the socket down): the button is offered again.
    setTimeout(() => { if (askingForPerson) { askingForPerson = false; conversationChanged(); } }, HANDOFF_WAIT_MS);
  });
  if (embedded) {
    document.body.classList.add("embed");
    $("minimise").hidden = false;
    $("minimise").addEventListener("click", () => parent.postMessage({ kefu: "minimise" }, "*"));
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") parent.postMessage({ kefu: "minimise" }, "*"); });
  }
}

async function start() {
  T = await loadStrings(pickLanguage(navigator.language));
  applyStrings(document, T);
  const title = embedded && params.get("title") ? params.get("title").slice(0, 60) : T.title;
  document.title = title;
  $("title").textContent = title;
  $("conn").textContent = T.connecting;
  panels = new Panels(T, {
    send: sendFrame, sendMessage,
    onRated: (cid, how) => { if (cid) { state.rated[cid] = how; save(); } },
    confirm: notice,
    onLeft: () => { state.leftMessage = true; save(); },
  });
  files = new Attachments(T, {
    session: () => state.session,
    sent: (m) => sendFrame(messageFrame(m)),
    update: () => save(),
  });
  files.onAdd = (m) => { seen.add(m.client_msg_id); state.messages.push(m); save(); render(m); };
  files.wire({ button: $("attach"), input: $("file"), dropTarget: document.body, pasteTarget: $("text"),
               phone: matchMedia("(max-width: 480px), (pointer: coarse)").matches });
  wire();
  const shop = await loadStart();
  if (shop) brand(shop.welcome);
  if (shop && !state.messages.some((m) => !m.notice)) showWelcome(T, shop.welcome);
  state.messages.forEach(render);
  conversationChanged();
  // Away mode: nobody online, in hours or not; offer the form now rather than a queue with no end.
  const waiting = ["queued", "assigned"].includes(state.conv?.state);
  available = shop ? shop.availability || (shop.online ? "online" : "nobody") : null;
  if (shop && !shop.online && !state.leftMessage && !waiting) panels.nobodyOnline(available === "off_hours");
  connect().catch(retry);
}

// Asking for focus is all a framing page can do, so it needs no check of who asks. Listening
// before start() awaits anything, so the widget's first request (on the frame's load) is heard.
if (embedded) window.addEventListener("message", (e) => { if (e.source === parent && e.data?.kefu === "focus") $("text").focus(); });
if (embedded) listenToShop(() => state.session);
start();
