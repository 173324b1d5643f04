// A supervisor in someone else's open conversation, from the records reader (issue 19). The thread
// follows live (the socket's `watch` frame brings every new transcript line as `watched`);
// **Join** tells the customer and the agent once, after which the box answers the customer under
// one's own name (a `reply` frame); **Whisper** writes a note only the conversation's agent (and
// supervisors) see, never the customer. The server enforces who may: agents are refused.
import { send } from "./conn.js";
import { api, el, toast } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";
import { state } from "./state.js";

addStrings({
  en: { ov_panel: "Supervise this conversation", ov_live: "Live: new messages appear as they come.",
        ov_join: "Join conversation", ov_joined: "You joined: the customer sees your name on your answers.",
        ov_join_first: "Join to answer the customer, or whisper to the agent.", ov_text: "Message",
        ov_send: "Send to customer", ov_whisper: "Whisper to {agent}", ov_no_agent: "No agent yet: nobody to whisper to.",
        ov_text_ph: "A whisper is seen by the agent only; an answer goes to the customer.",
        n_joined: "{by} joined the conversation", whisper_label: "Whisper — the customer never sees it",
        whisper_from: "Whisper from {by} to {to}" },
  zh: { ov_panel: "督导此会话", ov_live: "实时：新消息到达即显示。",
        ov_join: "加入会话", ov_joined: "你已加入：客户会在你的回复上看到你的名字。",
        ov_join_first: "加入后可回复客户，也可以悄悄提醒客服。", ov_text: "消息",
        ov_send: "发送给客户", ov_whisper: "悄悄告诉 {agent}", ov_no_agent: "尚无客服接待：无人可提醒。",
        ov_text_ph: "悄悄话只有客服能看到；回复会发给客户。",
        n_joined: "{by} 加入了会话", whisper_label: "悄悄话 — 客户永远看不到",
        whisper_from: "{by} 对 {to} 的悄悄话" },
});

let current = null; // { id, shown: Set of message ids drawn, draw(m) } the conversation followed

const name = (id) => state.agents.find((a) => a.id === id)?.name || id;

// Follow `conv` live and return the panel to put under its thread; `shown` holds the ids of the
// messages drawn already, `draw(m)` adds one.
export function oversee(conv, shown, draw) {
  stop();
  current = { id: conv.id, shown, draw, last: [...shown].pop() };
  watch();
  return panel(conv);
}

function watch() {
  if (current) send({ type: "watch", conversation_id: current.id, ...(current.last ? { after: current.last } : {}) });
}

// A socket that reconnected follows the same conversation again, from the last line drawn.
export function rewatch() { watch(); }

export function stop() {
  if (!current) return;
  current = null;
  send({ type: "unwatch" });
}

export function onWatched(f) {
  if (!current || f.conversation_id !== current.id) return;
  for (const m of f.messages || []) {
    current.last = m.id;
    if (current.shown.has(m.id)) continue;
    current.shown.add(m.id);
    current.draw(m);
  }
}

function panel(conv) {
  const box = el("section", "oversee", undefined, { id: "ov-panel", "aria-label": t("ov_panel") });
  const status = el("p", "muted", `${t("ov_live")} ${t("ov_join_first")}`, { id: "ov-status", role: "status" });
  const join = el("button", "small", t("ov_join"), { type: "button", id: "ov-join" });
  const form = el("form", "ov-form", undefined, { id: "ov-form" });
  const label = el("label", "sr", t("ov_text"), { for: "ov-text" });
  const text = el("textarea", "", undefined, { id: "ov-text", rows: "2", maxlength: "4000", placeholder: t("ov_text_ph") });
  const sendBtn = el("button", "", t("ov_send"), { type: "submit", id: "ov-send", disabled: "" });
  const whisper = el("button", "secondary", conv.agent ? tf("ov_whisper", { agent: name(conv.agent) }) : t("ov_no_agent"),
    { type: "button", id: "ov-whisper" });
  if (!conv.agent) whisper.disabled = true;
  const row = el("div", "ov-actions");
  row.append(sendBtn, whisper);
  form.append(label, text, row);
  box.append(status, join, form);

  join.addEventListener("click", async () => {
    join.disabled = true;
    try {
      await api(`/api/v1/conversations/${encodeURIComponent(conv.id)}/join`, { method: "POST" });
      join.hidden = true;
      sendBtn.disabled = false;
      status.textContent = `${t("ov_live")} ${t("ov_joined")}`;
      text.focus();
    } catch (err) {
      join.disabled = false;
      toast(err.message, "error");
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = text.value.trim();
    if (!body || sendBtn.disabled) return;
    if (send({ type: "reply", conversation_id: conv.id, text: body, client_msg_id: crypto.randomUUID() })) text.value = "";
    else toast(t("offline"), "error");
  });
  whisper.addEventListener("click", async () => {
    const body = text.value.trim();
    if (!body) { text.focus(); return; }
    whisper.disabled = true;
    try {
      const data = await api(`/api/v1/conversations/${encodeURIComponent(conv.id)}/whisper`,
        { method: "POST", body: { text: body, client_msg_id: crypto.randomUUID() } });
      text.value = "";
      if (current?.id === conv.id && !current.shown.has(data.message.id)) {
        current.shown.add(data.message.id);
        current.draw(data.message);
      }
    } catch (err) {
      toast(err.message, "error");
    } finally {
      whisper.disabled = false;
      text.focus();
    }
  });
  return box;
}

// The label over a whisper in any thread: who whispered to whom, in the console's language.
export function whisperLabel(m) {
  const to = m.whisper_to ? name(m.whisper_to) : "—";
  const node = el("div", "note-label whisper-label", m.agent_id ? tf("whisper_from", { by: name(m.agent_id), to }) : t("whisper_label"));
  node.title = t("whisper_label");
  return node;
}
