// Minimal agent console: the agent's conversations, live messages, replies with delivery status.
// Every frame is deduped by id, so a reconnect never shows a message twice.
const $ = (id) => document.getElementById(id);
const convs = new Map(); // id -> {conv, messages: Map}
let ws = null, current = null, backoff = 500;
const token = () => sessionStorage.getItem("kefu.token");

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderList() {
  const ul = $("convs");
  ul.replaceChildren();
  for (const [id, c] of convs) {
    const li = el("li", id === current ? "active" : "");
    const b = el("button", "conv");
    b.dataset.id = id;
    const last = [...c.messages.values()].at(-1);
    b.append(el("span", `chan chan-${c.conv.channel}`, c.conv.channel), el("span", "who", c.conv.customer?.name || c.conv.customer_id || id),
      el("span", "preview", last ? last.text : ""));
    if (c.unread) b.append(el("span", "unread", String(c.unread)));
    b.addEventListener("click", () => select(id));
    li.append(b);
    ul.append(li);
  }
}

function renderMessage(m) {
  const li = el("li", `msg from-${m.from}`);
  li.dataset.id = m.id;
  li.append(el("div", "body", m.text));
  const st = el("span", "delivery");
  if (m.delivery) st.textContent = m.delivery.status === "failed" ? `failed: ${m.delivery.reason || ""}` : m.delivery.status;
  li.append(st);
  return li;
}

function renderCurrent() {
  if (!current || !convs.has(current)) { $("current").hidden = true; $("empty").hidden = false; return; }
  const c = convs.get(current);
  $("current").hidden = false; $("empty").hidden = true;
  $("conv-title").textContent = `${c.conv.customer?.name || c.conv.customer_id} · ${c.conv.channel}`;
  const d = c.conv.decision;
  $("decision").textContent = d ? `Why here: pool ${d.pool}${d.rule ? `, rule “${d.rule}”` : ""} (rules ${d.version})` : "";
  $("messages").replaceChildren(...[...c.messages.values()].map(renderMessage));
}

function select(id) { current = id; const c = convs.get(id); if (c) c.unread = 0; renderList(); renderCurrent(); $("reply-text").focus(); }

function addMessage(cid, m) {
  const c = convs.get(cid);
  if (!c || c.messages.has(m.id)) return;
  c.messages.set(m.id, m);
  if (cid !== current) c.unread = (c.unread || 0) + 1;
  renderList(); if (cid === current) renderCurrent();
}

function onFrame(f) {
  switch (f.type) {
    case "hello": $("me").textContent = f.agent.name; $("status").value = f.agent.status; break;
    case "assigned": {
      const prev = convs.get(f.conversation.id);
      const messages = prev ? prev.messages : new Map();
      for (const m of f.messages) messages.set(m.id, m);
      convs.set(f.conversation.id, { conv: f.conversation, messages, unread: prev ? prev.unread : f.messages.length });
      if (!prev) document.title = `(${convs.size}) kefu console`;
      if (!current) { current = f.conversation.id; convs.get(current).unread = 0; }
      renderList(); renderCurrent(); break;
    }
    case "message": addMessage(f.conversation_id, f.message); break;
    case "ack": {
      const c = convs.get(f.conversation_id);
      const pending = c && [...c.messages.values()].find((m) => m.client_msg_id === f.client_msg_id);
      if (pending) { c.messages.delete(pending.id); pending.id = f.message_id; c.messages.set(f.message_id, pending); renderCurrent(); }
      break;
    }
    case "delivery": {
      for (const c of convs.values()) { const m = c.messages.get(f.message_id); if (m) m.delivery = { status: f.status, reason: f.reason }; }
      renderCurrent(); break;
    }
    case "unassigned": case "closed": convs.delete(f.conversation_id); if (current === f.conversation_id) current = null; renderList(); renderCurrent(); break;
    case "status": $("status").value = f.status; break;
    case "error": $("error").textContent = f.detail; break;
  }
}

function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/agent?token=${encodeURIComponent(token())}`);
  ws.onopen = () => { backoff = 500; $("conn").textContent = "online"; $("conn").className = "conn online"; };
  ws.onmessage = (e) => onFrame(JSON.parse(e.data));
  ws.onclose = () => {
    $("conn").textContent = "offline, reconnecting…"; $("conn").className = "conn offline";
    setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 10000);
  };
}

async function signIn(t) {
  const r = await fetch("/api/v1/agents", { headers: { Authorization: `Bearer ${t}` } });
  if (!r.ok) { $("signin-error").textContent = "That token was not accepted."; return; }
  sessionStorage.setItem("kefu.token", t);
  $("signin").hidden = true; $("app").hidden = false;
  connect();
}

$("signin").addEventListener("submit", (e) => { e.preventDefault(); signIn($("token").value.trim()); });
$("status").addEventListener("change", () => ws.send(JSON.stringify({ type: "status", status: $("status").value })));
$("reply").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text || !current) return;
  const client_msg_id = crypto.randomUUID();
  const c = convs.get(current);
  c.messages.set(client_msg_id, { id: client_msg_id, client_msg_id, from: "agent", text, delivery: { status: "sending" } });
  renderCurrent();
  ws.send(JSON.stringify({ type: "reply", conversation_id: current, text, client_msg_id }));
  $("reply-text").value = "";
});
$("reply-text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("reply").requestSubmit(); }
});
$("close-btn").addEventListener("click", () => current && ws.send(JSON.stringify({ type: "close", conversation_id: current })));
if (token()) signIn(token());
