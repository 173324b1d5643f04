// The customer web chat: keeps its session and history in localStorage, resumes with last_seen,
// and shows every message once (deduped by id). Text is always rendered as text.
const KEY = "kefu.chat.v1";
const zh = (navigator.language || "zh").toLowerCase().startsWith("zh");
const T = zh
  ? { title: "在线客服", send: "发送", ph: "请输入消息…", online: "已连接", offline: "连接中断，正在重连…",
      queue: (p, eta) => `您前面还有 ${p - 1} 位${eta > 0 ? `，预计等待 ${Math.ceil(eta / 60)} 分钟` : ""}`,
      agent: (n) => `客服 ${n} 为您服务`, left: "正在为您转接其他客服…", closed: "会话已结束，感谢您的咨询" }
  : { title: "Chat with us", send: "Send", ph: "Type a message…", online: "Connected", offline: "Offline, reconnecting…",
      queue: (p, eta) => `${p - 1} ahead of you${eta > 0 ? `, about ${Math.ceil(eta / 60)} min` : ""}`,
      agent: (n) => `${n} is helping you`, left: "Finding you another agent…", closed: "Conversation closed. Thank you!" };

const $ = (id) => document.getElementById(id);
const state = JSON.parse(localStorage.getItem(KEY) || "null") || { session: null, messages: [], lastSeen: null };
const seen = new Set(state.messages.map((m) => m.id || m.client_msg_id));
let ws = null, backoff = 500;

function save() {
  state.messages = state.messages.slice(-300);
  localStorage.setItem(KEY, JSON.stringify(state));
}

function render(m) {
  const li = document.createElement("li");
  li.className = `msg from-${m.from}`;
  if (m.pending) li.classList.add("pending");
  li.dataset.id = m.id || m.client_msg_id;
  const body = document.createElement("div");
  body.className = "body";
  body.textContent = m.text;
  li.append(body);
  $("log").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

function notice(text) {
  const li = document.createElement("li");
  li.className = "msg from-system";
  li.textContent = text;
  $("log").append(li);
}

function onFrame(f) {
  if (f.type === "ack") {
    const m = state.messages.find((x) => x.client_msg_id === f.client_msg_id);
    if (m) { m.id = f.message_id; m.pending = false; save(); }
    const li = document.querySelector(`[data-id="${CSS.escape(f.client_msg_id)}"]`);
    if (li) { li.classList.remove("pending"); li.dataset.id = f.message_id; }
    seen.add(f.message_id);
  } else if (f.type === "message") {
    const m = f.message;
    if (seen.has(m.id)) return;
    seen.add(m.id);
    state.messages.push(m);
    state.lastSeen = m.id;
    save();
    render(m);
  } else if (f.type === "queue") {
    $("queue").hidden = false;
    $("queue").textContent = T.queue(f.position, f.eta_s);
  } else if (f.type === "agent") {
    $("queue").hidden = false;
    $("queue").textContent = T.agent(f.agent.name);
  } else if (f.type === "agent_left") {
    $("queue").hidden = false;
    $("queue").textContent = T.left;
  } else if (f.type === "closed") {
    $("queue").hidden = true;
    notice(T.closed);
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
  ws.onopen = () => {
    backoff = 500;
    $("conn").textContent = T.online;
    $("conn").className = "conn online";
    for (const m of state.messages.filter((x) => x.pending)) sendFrame(m);
  };
  ws.onmessage = (e) => onFrame(JSON.parse(e.data));
  ws.onclose = (e) => {
    $("conn").textContent = T.offline;
    $("conn").className = "conn offline";
    if (e.code === 1008 || e.code === 4001) { state.session = null; save(); }
    setTimeout(() => connect().catch(() => {}), backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

function sendFrame(m) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: "message", text: m.text, client_msg_id: m.client_msg_id }));
  }
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  const m = { client_msg_id: crypto.randomUUID(), from: "customer", text, ts: Date.now() / 1000, pending: true };
  state.messages.push(m);
  save();
  render(m);
  sendFrame(m);
  $("text").value = "";
});
$("text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
});

document.title = T.title;
$("title").textContent = T.title;
$("send").textContent = T.send;
$("text").placeholder = T.ph;
document.documentElement.lang = zh ? "zh-CN" : "en";
state.messages.forEach(render);
connect().catch(() => {});
