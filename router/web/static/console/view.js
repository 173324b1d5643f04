// The open conversation: its messages with delivery status, and beside it the customer, why the
// chat came here, their orders, their history on every channel and the WeChat reply quota.
import { $, api, clock, duration, el, isAvatar, now, stale } from "./dom.js";
import { currentLang, t, tf } from "./i18n.js";
import { cardNode } from "./cards.js";
import { mediaNode, renderPinned } from "./media.js";
import { noteLabel } from "./notes.js";
import { whisperLabel } from "./oversee.js";
import { agentById, face } from "./pictures.js";
import { renderProfile } from "./profile.js";
import { renderSteps } from "./rules_why.js";
import { customerName, state } from "./state.js";

const sideCache = new Map(); // customer id -> {at, history, orders}
const SIDE_TTL_S = 30;

let openPast = () => {};
// How a past conversation in the history panel opens (read-only, in the records tab).
export function onOpenPast(fn) { openPast = fn; }

// Who wrote a message, in words: the customer's name, "Bot", "Alice (you)", another agent's name,
// or an internal note. Bot and agent bubbles differ by more than their tint (issue 19).
export function senderLabel(m, conv = null, live = false) {
  if (m.note) return m.from === "bot" ? t("note_bot") : t("note_system");
  if (m.from === "customer") return conv ? customerName(conv, t("visitor")) : t("customer");
  if (m.from === "bot") return t("bot");
  if (m.from === "agent") {
    const id = m.agent_id || (live ? state.me?.id : null); // our own copy before the server's
    if (!id) return t("agent");
    const name = id === state.me?.id ? state.me.name : state.agents.find((a) => a.id === id)?.name;
    return id === state.me?.id ? tf("you_agent", { name: name || id }) : name || id;
  }
  return t("system");
}

// `conv` names the customer; `live` is the inbox's own thread, where an unacked reply is ours.
export function messageItem(m, conv = null, live = false) {
  const li = el("li", `msg from-${m.from}${m.note ? " note" : ""}${m.whisper ? " whisper" : ""}`, undefined, { "data-id": m.id });
  // A colleague's private note keeps its own label (a supervisor's whisper its own); everything
  // else says who wrote it.
  if (m.note && m.from === "agent") {
    li.append(m.whisper ? whisperLabel(m) : noteLabel(), el("div", "who", senderLabel({ ...m, note: false }, conv, live)));
  } else {
    const who = el("div", "who", senderLabel(m, conv, live));
    if (m.from === "agent") {
      // An agent's bubble shows their face (picture or initials) beside the name (issue 19); the
      // name keeps its own element, so it reads as it did.
      const row = el("div", "who-row");
      row.append(face(agentById(m.agent_id || (live ? state.me?.id : null))), who);
      li.append(row);
    } else li.append(who);
  }
  const file = mediaNode(m);
  const text = (m.event && noteText(m.event)) || m.text;
  if (text || !file) li.append(el("div", "body", text || (m.media ? `[${m.kind || "media"}]` : "")));
  if (file) li.append(file);
  const card = cardNode(m);
  if (card) li.append(card);
  const meta = el("div", "meta");
  meta.append(el("time", "", clock(m.ts)));
  li.append(meta);
  if ((m.from === "agent" || m.from === "bot") && !m.note) {
    const d = m.delivery || {};
    const st = d.status || "";
    const span = el("span", `delivery ${st}`, st === "failed" ? `${t("failed")}: ${d.reason || ""}` : st ? t(st) : "");
    if (st === "failed") span.setAttribute("role", "alert");
    li.append(span);
  }
  return li;
}

// Update the log in place: the list is a live region, and rebuilding it would make a screen
// reader read the whole conversation again on every new message. Each message keeps its node.
function syncMessages(log, c) {
  const keep = new Set();
  [...c.messages.values()].forEach((m, i) => {
    const sig = `${m.delivery?.status}|${m.delivery?.reason}`;
    if (!m.node || m.sig !== sig) {
      const li = messageItem(m, c.conv, true);
      if (m.node) m.node.replaceWith(li);
      Object.defineProperties(m, { node: { value: li, writable: true, configurable: true },
        sig: { value: sig, writable: true, configurable: true } }); // not enumerable: never sent
    }
    keep.add(m.node);
    if (log.children[i] !== m.node) log.insertBefore(m.node, log.children[i] || null);
  });
  for (const li of [...log.children]) if (!keep.has(li)) li.remove();
}

export function renderCurrent() {
  const c = state.current && state.convs.get(state.current);
  $("current").hidden = !c;
  $("empty").hidden = !!c;
  $("side").hidden = !c;
  if (!c) return;
  const conv = c.conv;
  const cust = conv.customer || {};
  const title = $("conv-title");
  const name = customerName(conv, t("visitor"));
  if (stale(title, [conv.channel, cust.avatar, name, cust.segment, currentLang()])) {
    title.replaceChildren(el("span", `chan chan-${conv.channel}`, conv.channel), " ");
    if (isAvatar(cust.avatar)) title.append(el("img", "avatar small", undefined, { src: cust.avatar, alt: "" }), " ");
    title.append(el("span", "", name));
    if (cust.segment === "vip") title.append(" ", el("span", "badge vip", t("vip")));
  }
  const meta = [conv.id, conv.pool && `${t("pool")} ${conv.pool}`, word("seg_", cust.segment)]
    .filter(Boolean).join(" · ");
  if ($("conv-meta").textContent !== meta) $("conv-meta").textContent = meta; // keeps a selected id selected
  const log = $("messages");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  syncMessages(log, c);
  renderPinned(c);
  if (atBottom) log.scrollTop = log.scrollHeight;
  $("typing").hidden = c.typingUntil < now();
  renderDecision(conv.decision, conv);
  renderQuota(c);
}

function row(dl, key, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
  dl.append(el("dt", "", t(key)), el("dd", "", Array.isArray(value) ? value.join(", ") : value));
}

// The pool is where the chat is now, as the header says; when the rules chose another one, the
// panel says so and why it moved (the bot's handoff, a transfer, an SLA escalation), instead of
// the header and the panel naming two pools without a word (issue 19).
// renderCurrent runs on every frame of the open chat (each line, each typing notice): the panel,
// like the title, is drawn again only when what it shows changed (dom.js `stale`).
function renderDecision(d, conv) {
  const box = $("why");
  if (!stale(box, [d, conv?.pool, conv?.bot?.reason, currentLang()])) return;
  box.replaceChildren();
  $("why-panel").hidden = !d;
  if (!d) return;
  const dl = el("dl", "facts");
  const now = conv?.pool || d.assignment?.pool || d.pool;
  row(dl, "pool", now);
  if (d.pool && now && d.pool !== now) {
    row(dl, "rule_pool", d.pool);
    row(dl, "moved_why", movedWhy(d, conv));
  }
  row(dl, "rule", d.rule || t("rule_default"));
  row(dl, "version", d.version);
  row(dl, "policy", word("pol_", d.policy));
  row(dl, "chosen", d.chosen);
  box.append(dl);
  if (d.steps?.length) box.append(renderSteps(d.steps)); // in the console's language (rules_why.js)
  else if (d.conditions?.length) {
    const ul = el("ul", "conditions");
    for (const line of d.conditions) ul.append(el("li", "", line));
    box.append(ul);
  }
  if (Array.isArray(d.candidates) && d.candidates.length) {
    const table = el("table", "grid");
    table.append(el("caption", "", t("candidates")));
    const head = el("tr");
    for (const k of ["agent", "eligible", "load", "reason"]) head.append(el("th", "", t(k), { scope: "col" }));
    table.append(head);
    for (const cand of d.candidates) {
      const tr = el("tr", cand.agent === d.chosen ? "chosen" : "");
      tr.append(el("td", "", cand.agent), el("td", "", cand.eligible ? "✓" : "✗"),
        el("td", "", `${cand.load ?? "?"}/${cand.cap ?? "?"}`), el("td", "", candidateReason(cand.reason)));
      table.append(tr);
    }
    box.append(table);
  }
}

// Why a chat is in another pool than the rules chose, in words.
function movedWhy(d, conv) {
  const trigger = d.assignment?.trigger;
  if (trigger === "transfer" || trigger === "sla_reassign") return t(`moved_${trigger}`);
  if (conv?.bot?.reason) return tf("moved_bot", { reason: handoffReason(conv.bot.reason) });
  return t("moved_other");
}

const agentName = (id) => state.agents.find((a) => a.id === id)?.name || (id === state.me?.id ? state.me.name : id);

// A note the router wrote (a transfer, a handover, the bot's handoff, a discount answer), from its
// event, in the console's language; null for a kind this console does not know (the text shows).
export function noteText(e) {
  const extra = (s) => (s ? `: ${s}` : "");
  if (e.kind === "transfer") {
    // A transfer to oneself is a take-over (the supervisor page's button).
    if (e.outcome === "assigned" && e.by === e.to) return tf("n_taken", { by: agentName(e.by) }) + extra(e.note);
    return (e.outcome === "assigned" ? tf("n_transfer_agent", { by: agentName(e.by), to: agentName(e.to) })
      : tf("n_transfer_queue", { by: agentName(e.by), to: e.to })) + extra(e.note);
  }
  if (e.kind === "handover") {
    const why = word("why_", e.reason);
    return e.to ? tf("n_handover_to", { name: e.name, why, to: agentName(e.to) })
      : tf("n_handover_queue", { name: e.name, why, pool: e.pool });
  }
  if (e.kind === "bot_handoff") {
    const parts = [tf("n_bot", { reason: handoffReason(e.reason) })];
    if (e.intent && e.intent !== e.reason) parts.push(tf("n_intent", { intent: handoffReason(e.intent) }));
    if (e.order_id) parts.push(tf("n_order", { order: e.order_id }));
    // The bot's own note starts with its reason code ("refund: ..."): the words above say it.
    const note = String(e.note || "").replace(new RegExp(`^${e.reason}: `), "");
    if (note) parts.push(note);
    return parts.join(t("list_sep"));
  }
  if (e.kind === "joined") return tf("n_joined", { by: e.by_name || agentName(e.by) });
  if (e.kind === "approval") {
    if (e.state === "auto") return tf("n_approval_auto", { amount: e.amount, agent: e.agent, reason: e.reason || "—" });
    return tf("n_approval", { amount: e.amount, agent: e.agent, reason: e.reason || "—", by: e.by,
      verdict: t(e.state === "approved" ? "approved" : "rejected") }) + extra(e.note);
  }
  return null;
}

// A code from the server (a policy, a status) as words in the console's language; an unknown code
// stays as it is, so a new one shows rather than vanishes.
export function word(prefix, code) {
  if (!code) return code;
  const key = `${prefix}${code}`;
  const text = t(key);
  return text === key ? code : text;
}

// Why a candidate was or was not chosen: "at_cap", "missing_skill:refund", ...
export function candidateReason(reason) {
  if (!reason) return "";
  const [code, skill] = String(reason).split(":", 2);
  if (skill !== undefined) return tf(`cr_${code}`, { skill }) === `cr_${code}` ? reason : tf(`cr_${code}`, { skill });
  return word("cr_", code);
}

// A handoff reason code (human_request, refund, ...) as words; an unknown code stays as it is.
export function handoffReason(code) {
  const key = `hr_${code}`;
  const text = t(key);
  return text === key ? code : text;
}

const QUOTA_TTL_S = 10;

// What each channel can do, asked once: the console never tests a channel's name.
let channelCaps = null;
function capabilities() {
  channelCaps ||= api("/api/v1/channels")
    .then((r) => Object.fromEntries(r.channels.map((c) => [c.channel, c.capabilities])))
    .catch(() => { channelCaps = null; return {}; });
  return channelCaps;
}

// Asked again after each delivery (a reply used one) and otherwise at most every few seconds.
async function renderQuota(c) {
  const panel = $("quota-panel");
  const conv = c.conv;
  const chat = c.chat;
  try {
    const caps = (await capabilities())[conv.channel];
    if (state.current === conv.id) $("card-btn").hidden = !caps?.page_cards;
    if (!caps?.quota || !chat) { panel.hidden = true; return; }
    const fresh = c.quota && now() - c.quota.at < QUOTA_TTL_S && c.quota.deliveries === state.deliveries.size;
    const q = fresh ? c.quota.data
      : await api(`/api/v1/${encodeURIComponent(conv.channel)}/${encodeURIComponent(conv.account)}` +
                  `/quota/${encodeURIComponent(chat)}`);
    c.quota = { at: fresh ? c.quota.at : now(), data: q, deliveries: state.deliveries.size };
    if (state.current !== conv.id) return;
    panel.hidden = false;
    $("quota").textContent = `${q.quota_left} / ${q.quota}` +
      (q.window_ends ? ` · ${t("window_ends")} ${duration(q.window_ends - now())}` : "");
    $("quota").className = q.quota_left ? "" : "bad";
  } catch {
    panel.hidden = true;
    $("card-btn").hidden = true;
  }
}

// Customer, orders and history: fetched once per customer and kept briefly.
export async function loadSide(force = false) {
  const c = state.current && state.convs.get(state.current);
  if (!c) return;
  const cust = c.conv.customer_id;
  if (!cust) return;
  const cacheKey = `${cust} ${c.conv.id}`;
  let entry = sideCache.get(cacheKey);
  const stale = !entry || now() - entry.at > SIDE_TTL_S ||
    !entry.history?.conversations?.some((h) => h.id === c.conv.id); // a new chat since
  if (force || stale) {
    const [history, orders] = await Promise.allSettled([
      api(`/api/v1/customers/${encodeURIComponent(cust)}/history`),
      // With the conversation: orders the customer proved to the bot here are listed too.
      api(`/api/v1/customers/${encodeURIComponent(cust)}/orders?conversation=${encodeURIComponent(c.conv.id)}`),
    ]);
    entry = { at: now(), history: history.value || null, orders: orders.value || null };
    sideCache.set(cacheKey, entry);
  }
  if (state.current !== c.conv.id) return;
  const self = entry.history?.conversations?.find((h) => h.id === c.conv.id);
  if (self?.chat && c.chat !== self.chat) { c.chat = self.chat; renderQuota(c); }
  renderCustomer(entry.history?.customer || c.conv.customer);
  renderOrders(entry.orders);
  renderHistory(entry.history, c.conv.id);
}

function renderCustomer(cust) {
  renderProfile($("cust"), cust, () => loadSide(true)); // console/profile.js
}

function renderOrders(data) {
  const panel = $("orders-panel");
  panel.hidden = !data;
  if (!data) return;
  const ul = $("orders");
  ul.replaceChildren();
  if (!data.orders.length) { ul.append(el("li", "muted", t("no_orders"))); return; }
  for (const o of data.orders) {
    const li = el("li", "order");
    const head = el("div", "order-head");
    head.append(el("strong", "", o.id), el("span", `badge state-${o.state}`, orderState(o)),
      el("span", "money", `¥${o.total}`));
    if (o.verified_in_chat) head.append(el("span", "badge", t("verified_in_chat")));
    li.append(head);
    li.append(el("div", "muted", o.items.map((i) => `${i.title} ×${i.quantity}`).join("; ")));
    if (o.tracking_no) li.append(el("div", "muted", `${o.courier || ""} ${o.tracking_no}`));
    ul.append(li);
  }
}

// The server's label is Chinese; the console says the state in its own language.
function orderState(o) {
  const key = `os_${o.state}`;
  return t(key) === key ? o.state_label || o.state : t(key);
}

function renderHistory(data, currentId) {
  const panel = $("history-panel");
  panel.hidden = !data;
  if (!data) return;
  const box = $("history");
  box.replaceChildren();
  const past = data.conversations.filter((h) => h.id !== currentId);
  if (!past.length) { box.append(el("p", "muted", t("no_history"))); return; }
  if (data.archive === "unavailable") box.append(el("p", "muted", t("archive_down")));
  for (const h of past) {
    const d = el("details", "past", undefined, { "data-id": h.id });
    const sum = el("summary");
    sum.append(el("span", `chan chan-${h.channel}`, h.channel), ` ${clock(h.created)} · ${h.resolution || h.state}` +
      (h.agent ? ` · ${h.agent}` : ""));
    if (h.archived) sum.append(el("span", "badge", t("archived")));
    d.append(sum);
    const ol = el("ol", "log small");
    for (const m of h.transcript || []) ol.append(messageItem(m, { ...h, customer: data.customer }));
    const open = el("button", "small secondary", t("open_record"), { type: "button" });
    open.addEventListener("click", () => openPast(h.id, { conversation: h, messages: h.transcript || [],
      customer: data.customer }));
    d.append(ol, open);
    box.append(d);
  }
}
