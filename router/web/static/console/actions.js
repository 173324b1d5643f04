// Transfer, close and discount requests, and the keyboard shortcuts (listed in the `?` overlay).
import { send } from "./conn.js";
import { $, api, el, toast } from "./dom.js";
import { t, tf } from "./i18n.js";
import { openFaq } from "./composer.js";
import { neighbour } from "./queue.js";
import { state } from "./state.js";

const RESOLUTIONS = ["resolved", "order_issue", "refund", "presale_question", "no_response", "spam", "duplicate"];

// Shortcut table: the overlay is drawn from it, so the help never drifts from what works.
export const SHORTCUTS = [
  { keys: "Alt+↓ / Alt+↑", en: "Next / previous conversation", zh: "下一个 / 上一个会话", alt: "ArrowDown" },
  { keys: "↑ / ↓, Home / End, Enter", en: "Move in the conversation list, open one", zh: "在会话列表中移动，打开会话" },
  { keys: "Alt+R", en: "Focus the reply box", zh: "聚焦回复框", alt: "KeyR" },
  { keys: "/", en: "Quick replies (in the reply box)", zh: "快捷回复（在回复框中）" },
  { keys: "Enter / Shift+Enter", en: "Send / new line", zh: "发送 / 换行" },
  { keys: "Alt+T", en: "Transfer", zh: "转接", alt: "KeyT" },
  { keys: "Alt+E", en: "Close with a resolution", zh: "结束会话", alt: "KeyE" },
  { keys: "Alt+D", en: "Request a discount approval", zh: "申请优惠审批", alt: "KeyD" },
  { keys: "Alt+F", en: "Search the FAQ", zh: "搜索知识库", alt: "KeyF" },
  { keys: "Alt+1…6", en: "Inbox, supervisor, rules, team, records, reports", zh: "会话、主管、规则、团队、会话记录、报表" },
  { keys: "?", en: "This help", zh: "显示本帮助" },
  { keys: "Esc", en: "Close a dialog or the quick replies", zh: "关闭对话框或快捷回复" },
  { keys: "Tab / Shift+Tab", en: "Next / previous control (stays inside an open dialog)", zh: "下一个 / 上一个控件（对话框打开时留在对话框内）" },
];

function needConversation() {
  if (!state.current) return false;
  return true;
}

// Agents who can take a chat now are offered; the others are listed, greyed, with their status,
// so "transferred" never means "it stayed with me" (issue 19). Pools say who is in.
async function fillTargets() {
  try {
    state.agents = (await api("/api/v1/agents")).agents || [];
  } catch { /* keep the last list */ }
  const agents = $("transfer-agent");
  agents.replaceChildren(el("option", "", "—", { value: "" }));
  for (const a of state.agents) {
    if (a.id === state.me.id) continue;
    const full = a.load >= a.max_chats;
    const status = full && a.status === "online" ? t("st_full") : t(`st_${a.status}`);
    const opt = el("option", "", tf("transfer_agent_opt", { name: a.name || a.id, status, load: a.load, cap: a.max_chats }),
      { value: a.id });
    opt.disabled = a.status !== "online" || full;
    agents.append(opt);
  }
  const pools = new Map();
  for (const a of state.agents) {
    for (const p of a.pools || []) {
      const others = a.id !== state.me.id && a.status === "online" && a.load < a.max_chats;
      pools.set(p, (pools.get(p) || 0) + (others ? 1 : 0));
    }
  }
  const sel = $("transfer-pool");
  sel.replaceChildren(el("option", "", "—", { value: "" }));
  for (const [p, n] of [...pools].sort()) {
    sel.append(el("option", "", n ? tf("transfer_pool_opt", { pool: p, n }) : tf("transfer_pool_wait", { pool: p }), { value: p }));
  }
}

export async function openTransfer() {
  if (!needConversation()) return;
  await fillTargets();
  $("transfer-note").value = "";
  $("transfer-dlg").showModal();
  $("transfer-agent").focus();
}

export function openClose() {
  if (!needConversation()) return;
  $("close-dlg").showModal();
  $("close-resolution").focus();
}

export function openDiscount() {
  if (!needConversation()) return;
  $("discount-amount").value = "";
  $("discount-reason").value = "";
  $("discount-dlg").showModal();
  $("discount-amount").focus();
}

function offline() {
  toast(t("offline"), "error");
}

export function initActions({ select, showTab }) {
  const res = $("close-resolution");
  for (const r of RESOLUTIONS) res.append(el("option", "", t(`res_${r}`), { value: r, "data-i18n": `res_${r}` }));
  $("transfer-btn").addEventListener("click", openTransfer);
  $("close-btn").addEventListener("click", openClose);
  $("discount-btn").addEventListener("click", openDiscount);
  $("faq-btn").addEventListener("click", openFaq);
  $("help-btn").addEventListener("click", openHelp);
  for (const dlg of document.querySelectorAll("dialog")) {
    for (const b of dlg.querySelectorAll("[data-cancel]")) b.addEventListener("click", () => dlg.close());
  }
  $("transfer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const to_agent = $("transfer-agent").value;
    const to_pool = $("transfer-pool").value;
    if (!to_agent === !to_pool) { $("transfer-error").textContent = t("transfer_pick"); return; }
    $("transfer-error").textContent = "";
    const frame = { type: "transfer", conversation_id: state.current, note: $("transfer-note").value.trim() };
    if (to_agent) frame.to_agent = to_agent; else frame.to_pool = to_pool;
    if (!send(frame)) return offline();
    $("transfer-dlg").close();
  });
  $("close-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!send({ type: "close", conversation_id: state.current, resolution: res.value })) return offline();
    $("close-dlg").close();
  });
  $("discount-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const amount = Number($("discount-amount").value);
    if (!(amount > 0)) { $("discount-amount").focus(); return; }
    send({ type: "discount_request", conversation_id: state.current, amount,
      reason: $("discount-reason").value.trim(), client_msg_id: crypto.randomUUID() });
    $("discount-dlg").close();
  });
  drawHelp();
  document.addEventListener("keydown", (e) => {
    if (document.querySelector("dialog[open]") || $("app").hidden) return;
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      const tabs = { Digit1: "inbox", Digit2: "supervisor", Digit3: "rules", Digit4: "team", Digit5: "records",
        Digit6: "reports" };
      const actions = {
        ArrowDown: () => { const id = neighbour(1); if (id) select(id); },
        ArrowUp: () => { const id = neighbour(-1); if (id) select(id); },
        KeyR: () => $("reply-text").focus(), KeyT: openTransfer, KeyE: openClose, KeyD: openDiscount, KeyF: openFaq,
      };
      const fn = actions[e.code] || (tabs[e.code] && (() => showTab(tabs[e.code])));
      if (fn) { e.preventDefault(); fn(); }
      return;
    }
    const typing = e.target.closest?.("input, textarea, select, [contenteditable]");
    if (e.key === "?" && !typing) { e.preventDefault(); openHelp(); }
  });
}

function drawHelp() {
  const tbody = $("help-keys");
  tbody.replaceChildren();
  for (const s of SHORTCUTS) {
    const tr = el("tr");
    tr.append(el("th", "", s.keys, { scope: "row" }), el("td", "", document.documentElement.lang.startsWith("zh") ? s.zh : s.en));
    tbody.append(tr);
  }
}

export function openHelp() {
  drawHelp();
  $("help-dlg").showModal();
}
