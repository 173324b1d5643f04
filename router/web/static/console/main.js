// Console entry point: sign-in, tabs, and the frames from the server applied to the model.
import { initA11y, refocus } from "./a11y.js";
import { initActions } from "./actions.js";
import { initBulk } from "./bulk.js";
import { drawWaitButton, initWaiting, waitingFrame } from "./waiting.js";
import { disableFeature, initComposer, restoreDraft } from "./composer.js";
import { connect, disconnect, retryLater, settle } from "./conn.js";
import { $, api, beep, now, toast, unlockAudio } from "./dom.js";
import { applyI18n, currentLang, setLang, t, tf } from "./i18n.js";
import { refusalText } from "./refusals.js";
import { initCards } from "./cards.js";
import { initMedia } from "./media.js";
import { initNotify, notifyMessage, notifyNewChat, redrawNotify } from "./notify.js";
import { autoOpen, firstHeard, giveUpRestore, loadPlace, markRead, rememberCurrent, unreadSinceRead } from "./place.js";
import { dropPendingNote, mentioned } from "./notes.js";
import { onWatched, rewatch } from "./oversee.js";
import { initQueue, renderQueue, updateTitle } from "./queue.js";
import { initRecords, openRecord, showRecords } from "./records.js";
import { initReports, showReports } from "./reports.js";
import { tellRead } from "./receipts.js";
import { initRules, loadRules } from "./rules.js";
import { initAdmin, loadAudit, loadSetup } from "./admin.js";
import {
  ackMessage, addMessage, changed, customerName, isSupervisor, onChange, removeConversation, setDelivery, sorted,
  state, upsertConversation,
} from "./state.js";
import { agentStatusChanged, approvalRequested, approvalUpdated, hideSupervisor, showSupervisor } from "./supervisor.js";
import { loadTeam, teamStatusChanged } from "./team.js";
import { applyStatus, drawStatus, initStatus } from "./status.js";
import { initTeamAdmin } from "./team_admin.js";
import { enrol, focusSignIn, initAccount, initSignIn, loadAccount } from "./accounts.js";
import { initLogo, loadLogo, loadMyPicture } from "./pictures.js";
import { loadSide, onOpenPast, renderCurrent } from "./view.js";

let connectedOnce = false;

// `byAgent` is false when a first chat opens by itself: then the tab and focus stay put.
function select(id, byAgent = true) {
  state.current = id;
  const c = state.convs.get(id);
  if (c) { c.unread = 0; markRead(c); }
  rememberCurrent(id);
  restoreDraft();
  renderQueue();
  renderCurrent();
  drawWaitButton();
  tellRead();
  loadSide();
  if (!byAgent) return;
  showTab("inbox");
  $("reply-text").focus();
}

onChange((what, id) => {
  renderQueue();
  if (!id || id === state.current) { renderCurrent(); drawWaitButton(); tellRead(); }
  refocus();
});

// After a reload the chat that was open may come after others: wait for it briefly, then open the
// most urgent one if it never comes (it was closed or moved meanwhile).
let restoreTimer = 0;
function waitForRestore() {
  if (restoreTimer) return;
  restoreTimer = setTimeout(() => {
    restoreTimer = 0;
    giveUpRestore();
    const first = sorted()[0];
    if (!state.current && first) select(first.conv.id, false);
  }, 1500);
}

function notifyNew(conv, messages) {
  beep();
  const name = customerName(conv, t("visitor"));
  if (document.hidden || state.current !== conv.id) toast(`${t("new_chat")}: ${name}`);
  const last = (messages || []).filter((m) => m.from === "customer").at(-1);
  notifyNewChat(name, last?.text || "", conv.id);
}

// After a reconnect the server sends every open conversation again; the ones it no longer
// sends were closed or moved meanwhile, and the list is asked which those are.
async function reconcile(since) {
  try {
    const data = await api("/api/v1/conversations?state=assigned&limit=500");
    const open = new Set(data.conversations.filter((c) => c.agent === state.me.id).map((c) => c.id));
    for (const [id, c] of state.convs) if (!open.has(id) && c.seenAt < since) removeConversation(id);
    changed("list");
  } catch { /* the next reconnect tries again */ }
}

const HANDLERS = {
  hello(f) {
    state.me = { ...state.me, ...f.agent };
    $("me").textContent = f.agent.name;
    applyStatus(f.agent.status, f.agent.reason, f.away_reasons);
    document.body.classList.toggle("is-supervisor", isSupervisor());
    document.body.classList.toggle("is-admin", f.agent.role === "admin");
    if (connectedOnce) { const at = now(); setTimeout(() => reconcile(at), 1500); rewatch(); }
    connectedOnce = true;
  },
  assigned(f) {
    const id = f.conversation.id;
    const fresh = upsertConversation(f.conversation, f.messages || []);
    if (fresh) { const n = unreadSinceRead(state.convs.get(id)); if (n !== null) state.convs.get(id).unread = n; }
    if (!state.current && autoOpen(id) === "open") select(id, false);
    else if (!state.current) waitForRestore();
    else changed("conv", id);
    if (fresh && firstHeard(id)) notifyNew(f.conversation, f.messages);
  },
  message(f) {
    dropPendingNote(f.conversation_id, f.message);
    if (addMessage(f.conversation_id, f.message)) {
      if (f.message.from === "customer" && (document.hidden || f.conversation_id !== state.current)) {
        beep();
        const c = state.convs.get(f.conversation_id);
        if (c) notifyMessage(customerName(c.conv, t("visitor")), f.message.text || `[${f.message.kind || "media"}]`, c.conv.id);
      }
      if (f.conversation_id === state.current && !document.hidden) {
        state.convs.get(state.current).unread = 0;
        markRead(state.convs.get(state.current));
      }
      changed("messages", f.conversation_id);
    }
  },
  ack(f) { changed("messages", ackMessage(f.conversation_id, f.client_msg_id, f.message_id)); },
  delivery(f) { changed("messages", setDelivery(f.message_id, { status: f.status, reason: f.reason })); },
  unassigned(f) { removeConversation(f.conversation_id); changed("list"); restoreDraft(); },
  closed(f) { removeConversation(f.conversation_id); changed("list"); restoreDraft(); toast(t("closed")); },
  // What the server did, not what was asked: with an agent now, or waiting in a pool's queue.
  transferred(f) {
    const who = state.agents.find((a) => a.id === f.to);
    toast(f.outcome === "assigned" ? tf("transferred_to", { name: who?.name || f.to })
      : tf("transferred_queued", { pool: f.to }));
  },
  mention(f) { mentioned(f); },
  watched(f) { onWatched(f); },
  waiting(f) { waitingFrame(f); },
  // Ours, set here or in another tab or device of ours: every console shows what is true.
  status(f) { applyStatus(f.status, f.reason); },
  agent_status(f) { if (isSupervisor()) { agentStatusChanged(f); teamStatusChanged(f); } },
  sla(f) {
    const c = state.convs.get(f.conversation_id);
    if (!c) return;
    c.conv.sla = f.sla;
    if (f.event === "breached") toast(`${t("sla_breached")}: ${c.conv.customer?.name || f.conversation_id}`, "error");
    changed("conv", f.conversation_id);
  },
  typing(f) {
    const c = state.convs.get(f.conversation_id);
    if (c) { c.typingUntil = now() + 5; changed("conv", f.conversation_id); setTimeout(() => changed("conv", f.conversation_id), 5100); }
  },
  warning(f) { toast(`${t("compliance")} ${(f.terms || []).join(", ")}`, "warn"); },
  approval(f) {
    const a = f.approval || {};
    if (a.agent === state.me.id) {
      toast(`${t("approval_answer")} ¥${a.amount}: ${t(a.state)}${a.note ? ` — ${a.note}` : ""}`,
        a.state === "approved" ? "info" : "warn");
    }
    if (isSupervisor()) approvalUpdated(a);
  },
  approval_request(f) { approvalRequested(f.approval); },
  error(f) {
    if (f.ref && f.retry_after && retryLater(f.ref, f.retry_after)) return;
    if (f.ref) {
      settle(f.ref);
      for (const c of state.convs.values()) {
        const m = c.messages.get(f.ref);
        if (m) { m.delivery = { status: "failed", reason: refusalText(f) }; changed("messages", c.conv.id); }
      }
    }
    // Features this server does not have yet stay quiet: the console simply stops using them.
    if (f.code === "unknown_type") { disableFeature("typing"); if (!f.ref) return; }
    toast(refusalText(f), "error");
  },
};

function onFrame(f) {
  HANDLERS[f.type]?.(f);
}

function onState(s) {
  const conn = $("conn");
  conn.dataset.i18n = s; // so a language switch rewrites it too
  conn.textContent = t(s);
  conn.className = `conn ${s}`;
  document.body.classList.toggle("offline", s === "offline");
}

// `fromLink`: the page was opened at /console#NAME. A supervisors' page asked for that way by an
// agent says it is not for them; a shortcut (Alt+2) for an agent does nothing. `records/ID`
// opens that conversation in the reader (a link one person can send another).
function showTab(link, fromLink = false) {
  const [name, arg] = link.split("/", 2);
  const wanted = document.querySelector(`[data-tab="${name}"]`);
  if (!wanted) { if (name !== "inbox") showTab("inbox"); return; }
  const refused = (wanted.classList.contains("sup-only") && !isSupervisor()) ||
    (wanted.classList.contains("admin-only") && state.me?.role !== "admin");
  if (refused && !fromLink) return;
  for (const tab of document.querySelectorAll("[data-tab]")) {
    const on = tab.dataset.tab === name && !refused;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`tab-${tab.dataset.tab}`).hidden = !on;
  }
  $("tab-forbidden").hidden = !refused;
  if (refused) return;
  // The address names the tab, so a reload or a shared link comes back to it.
  history.replaceState(null, "", name === "inbox" ? location.pathname : `#${name}`);
  if (name === "supervisor") showSupervisor(); else hideSupervisor();
  if (name === "rules") loadRules();
  if (name === "setup") { loadSetup().catch((err) => toast(err.message, "error")); loadLogo(); }
  if (name === "audit") loadAudit();
  if (name === "team") { loadTeam(); loadAccount(); loadMyPicture(loadTeam); }
  if (name === "records") { showRecords(); if (arg) openRecord(decodeURIComponent(arg)); }
  if (name === "reports") showReports();
}

function enter(agent) {
  state.me = agent;
  loadPlace(agent.id);
  // Names for ids in notes and the thread ("Alice transferred ... to Bob").
  api("/api/v1/agents").then((d) => { state.agents = d.agents || state.agents; renderCurrent(); }, () => {});
  $("signin").hidden = true;
  $("app").hidden = false;
  $("me").textContent = agent.name;
  document.body.classList.toggle("is-supervisor", isSupervisor());
  document.body.classList.toggle("is-admin", agent.role === "admin");
  showTab(location.hash.slice(1) || "inbox", true);
  connect({ onFrame, onState, onSignedOut: signedOut });
}

function signedOut() {
  disconnect();
  state.convs.clear();
  state.current = null;
  connectedOnce = false;
  $("app").hidden = true;
  $("signin").hidden = false;
  focusSignIn();
}

function boot() {
  applyI18n(document);
  initA11y();
  $("signin").addEventListener("submit", unlockAudio);
  initSignIn(enter);
  initAccount(() => { $("app").hidden = false; showTab("team"); });
  initTeamAdmin(loadTeam);
  initLogo();
  initStatus();
  $("signout").addEventListener("click", async () => { await api("/api/v1/session", { method: "DELETE" }).catch(() => {}); signedOut(); });
  // Everything drawn from data is drawn again in the new language: the side panel too (issue 19).
  $("lang").addEventListener("click", () => {
    setLang(currentLang() === "zh" ? "en" : "zh");
    redrawNotify();
    drawStatus();
    drawWaitButton();
    for (const c of state.convs.values()) for (const m of c.messages.values()) if (m.node) m.sig = null; // redraw
    renderQueue();
    renderCurrent();
    loadSide();
    const shown = document.querySelector('[role=tab][aria-selected="true"]')?.dataset.tab;
    if (shown && shown !== "inbox") showTab(shown);
  });
  for (const tab of document.querySelectorAll("[data-tab]")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  // Arrow keys move between tabs, as in any tab list; only the selected tab is in the Tab order.
  document.querySelector("[role=tablist]").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const tabs = [...document.querySelectorAll("[data-tab]")].filter((b) => b.offsetParent !== null);
    const next = tabs[(tabs.indexOf(e.target) + (e.key === "ArrowRight" ? 1 : -1) + tabs.length) % tabs.length];
    showTab(next.dataset.tab);
    next.focus();
  });
  window.addEventListener("hashchange", () => { if (!$("app").hidden) showTab(location.hash.slice(1) || "inbox", true); });
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("visibilitychange", () => {
    const c = state.current && state.convs.get(state.current);
    if (c && !document.hidden) { c.unread = 0; markRead(c); }
    tellRead();
    updateTitle();
  });
  initQueue(select);
  initNotify((id) => { if (state.convs.has(id)) select(id); });
  initComposer();
  initMedia();
  initCards();
  initActions({ select, showTab });
  initBulk();
  initWaiting();
  initRules();
  initAdmin();
  initRecords(select);
  initReports();
  onOpenPast((id, data) => { showTab("records"); openRecord(id, data); });
  // A live session cookie skips the sign-in form.
  api("/api/v1/session").then((d) => (d.pending === "enrol" ? enrol(() => enter(d.agent)) : enter(d.agent)),
    () => { $("signin").hidden = false; focusSignIn(); });
}

boot();
