// The reply box: Enter sends, Shift+Enter breaks the line, `/` opens quick replies searched as
// you type, compliance findings show before sending, and each conversation keeps its draft.
import { send } from "./conn.js";
import { $, api, el, marked, now, toast } from "./dom.js";
import { t, tf } from "./i18n.js";
import { initNotes, noteFrame, noteMode } from "./notes.js";
import { changed, state } from "./state.js";

const features = { quickReplies: true, compliance: true, faq: true, typing: true };
let qrItems = [];
let qrIndex = 0;
let checkTimer = null;
let lastCheck = { text: "", result: null };
let typingSent = 0;

const draftKey = (cid) => `kefu.draft.${state.me?.id}.${cid}`;
const box = () => $("reply-text");

export function restoreDraft() {
  box().value = (state.current && localStorage.getItem(draftKey(state.current))) || "";
  closeQuickReplies();
  showFindings(null);
}

function saveDraft() {
  if (!state.current) return;
  const text = box().value;
  if (text) localStorage.setItem(draftKey(state.current), text);
  else localStorage.removeItem(draftKey(state.current));
}

export function disableFeature(name) {
  features[name] = false;
}

// -- quick replies -----------------------------------------------------------------------------
let qrAsked = 0;

async function searchQuickReplies(query) {
  if (!features.quickReplies) return;
  const q = new URLSearchParams({ q: query, conversation_id: state.current || "" });
  const ask = ++qrAsked; // answers may overtake each other; only the latest question counts
  try {
    const data = await api(`/api/v1/quick-replies?${q}`);
    if (ask === qrAsked && box().value.trimStart().startsWith("/")) showQuickReplies(data.items || []);
  } catch (err) {
    if (err.status === 404) features.quickReplies = false;
    closeQuickReplies();
  }
}

function showQuickReplies(items) {
  qrItems = items.slice(0, 8);
  qrIndex = 0;
  const list = $("qr-list");
  list.replaceChildren();
  list.hidden = false;
  box().setAttribute("aria-expanded", "true");
  if (!qrItems.length) { list.append(el("li", "muted", t("qr_none"))); return; }
  qrItems.forEach((item, i) => {
    const li = el("li", "qr", undefined, { role: "option", id: `qr-${i}` });
    li.append(el("strong", "", item.title || item.id), el("span", "muted", ` ${item.category_title || item.category || ""}`),
      el("div", "qr-text", item.rendered || item.text));
    li.addEventListener("mousedown", (e) => { e.preventDefault(); pickQuickReply(i); });
    list.append(li);
  });
  highlight();
}

function highlight() {
  [...$("qr-list").querySelectorAll(".qr")].forEach((li, i) => li.setAttribute("aria-selected", String(i === qrIndex)));
  box().setAttribute("aria-activedescendant", qrItems.length ? `qr-${qrIndex}` : "");
}

function pickQuickReply(i) {
  const item = qrItems[i];
  if (!item) return;
  box().value = item.rendered || item.text;
  closeQuickReplies();
  saveDraft();
  scheduleCheck();
  box().focus();
}

function closeQuickReplies() {
  qrItems = [];
  $("qr-list").hidden = true;
  box().setAttribute("aria-expanded", "false");
  box().removeAttribute("aria-activedescendant");
}

// -- compliance ---------------------------------------------------------------------------------
function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => check(box().value), 350);
}

async function check(text) {
  if (!features.compliance || !text.trim() || text.trimStart().startsWith("/")) { showFindings(null); return null; }
  if (lastCheck.text === text) return lastCheck.result;
  try {
    const result = await api("/api/v1/compliance/check", { method: "POST", body: { text } });
    lastCheck = { text, result };
    if (box().value === text) showFindings(result, text);
    return result;
  } catch (err) {
    if (err.status === 404) features.compliance = false;
    return null;
  }
}

function showFindings(result, text) {
  const p = $("compliance");
  if (!result || !result.findings?.length) { p.hidden = true; p.replaceChildren(); return; }
  p.hidden = false;
  p.className = `compliance ${result.mode}`;
  p.replaceChildren(el("strong", "", t("compliance")), " ", marked(text, result.findings), " ",
    el("span", "muted", result.findings.map((f) => f.term).join(", ")));
}

// -- sending -------------------------------------------------------------------------------------
async function submit() {
  const text = box().value.trim();
  const cid = state.current;
  if (!text || !cid) return;
  if (noteMode()) { sendNote(cid, text); return; } // staff only: no compliance check, no channel
  const result = await check(text);
  if (result?.mode === "block" && result.findings?.length) { toast(t("blocked"), "error"); return; }
  const client_msg_id = crypto.randomUUID();
  const c = state.convs.get(cid);
  const online = send({ type: "reply", conversation_id: cid, text, client_msg_id });
  c.messages.set(client_msg_id, {
    id: client_msg_id, client_msg_id, from: "agent", text, ts: now(),
    delivery: { status: online ? "sending" : "queued_send" },
  });
  box().value = "";
  typingSent = 0; // the customer's page hides "typing" when the reply lands; say so afresh next time
  saveDraft();
  showFindings(null);
  changed("messages", cid);
}

function sendNote(cid, text) {
  const { frame, message } = noteFrame(cid, text, crypto.randomUUID(), state.me?.id);
  send(frame);
  state.convs.get(cid).messages.set(message.id, message);
  box().value = "";
  saveDraft();
  changed("messages", cid);
}

function sendTyping() {
  if (!features.typing || !state.current || Date.now() - typingSent < 3000) return;
  typingSent = Date.now();
  send({ type: "typing", conversation_id: state.current });
}

export function initComposer() {
  const ta = box();
  initNotes();
  ta.addEventListener("input", () => {
    saveDraft();
    const v = ta.value.trimStart();
    if (v.startsWith("/") && !v.includes("\n")) searchQuickReplies(v.slice(1).trim());
    else { closeQuickReplies(); scheduleCheck(); sendTyping(); }
  });
  ta.addEventListener("keydown", (e) => {
    if (e.isComposing) return; // an IME is still composing Chinese: Enter picks a candidate
    if (!$("qr-list").hidden && qrItems.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        qrIndex = (qrIndex + (e.key === "ArrowDown" ? 1 : -1) + qrItems.length) % qrItems.length;
        highlight();
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); pickQuickReply(qrIndex); return; }
    }
    if (e.key === "Escape" && !$("qr-list").hidden) { e.preventDefault(); closeQuickReplies(); return; }
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
  });
  $("reply").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  initFaq();
  $("suggest-btn").addEventListener("click", suggest);
}

// -- copilot ----------------------------------------------------------------------------------------
// The language model drafts a reply into the box; the agent edits it and sends it. Nothing is sent
// from here. Without a model configured (404) the button goes away.
async function suggest() {
  const cid = state.current;
  if (!cid) return;
  const btn = $("suggest-btn");
  btn.disabled = true;
  toast(t("suggest_busy"));
  try {
    const data = await api(`/api/v1/conversations/${encodeURIComponent(cid)}/suggestion`, { method: "POST", body: {} });
    if (state.current !== cid) return;  // the agent moved on meanwhile
    if (!data.suggestion) { toast(tf("suggest_none", { outcome: data.outcome }), "error"); return; }
    box().value = box().value ? `${box().value}\n${data.suggestion}` : data.suggestion;
    saveDraft();
    scheduleCheck();
    box().focus();
  } catch (err) {
    if (err.status === 404 && err.body?.error === "no_model") btn.hidden = true;
    else toast(err.message, "error");
  } finally {
    btn.disabled = false;
  }
}

// -- FAQ search -----------------------------------------------------------------------------------
function initFaq() {
  let timer = null;
  // A search box eats the first Esc to clear itself; in this dialog one Esc closes it (issue 19).
  $("faq-q").addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); $("faq-dlg").close(); box().focus(); }
  });
  $("faq-q").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = $("faq-q").value.trim();
      const ul = $("faq-results");
      ul.replaceChildren();
      if (!q) return;
      try {
        const data = await api(`/api/v1/faq/search?${new URLSearchParams({ q })}`);
        for (const item of data.items || []) {
          const li = el("li", "faq");
          const use = el("button", "small", t("insert"), { type: "button" });
          use.addEventListener("click", () => {
            box().value = box().value ? `${box().value}\n${item.answer}` : item.answer;
            saveDraft();
            scheduleCheck();
            $("faq-dlg").close();
            box().focus();
          });
          li.append(el("strong", "", item.question), el("p", "", item.answer), use);
          ul.append(li);
        }
        if (!ul.children.length) ul.append(el("li", "muted", t("none")));
      } catch (err) {
        ul.append(el("li", "muted", err.status === 404 ? t("unavailable") : err.message));
      }
    }, 250);
  });
}

export function openFaq() {
  $("faq-dlg").showModal();
  $("faq-q").focus();
}
