// Transfer, close and discount requests, and the keyboard shortcuts (listed in the `?` overlay).
import { send } from "./conn.js";
import { $, api, el, toast } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";
import { openFaq } from "./composer.js";
import { neighbour } from "./queue.js";
import { state } from "./state.js";

const RESOLUTIONS = ["resolved", "order_issue", "refund", "presale_question", "no_response", "spam", "duplicate"];

// Shortcut table: the overlay is drawn from it, so the help never drifts from what works. `say`
// is the row's words in the console's tables (one language at a time); `keys` are key names.
export const SHORTCUTS = [
  { keys: "Alt+↓ / Alt+↑", say: "hk_next_prev", alt: "ArrowDown" },
  { keys: "↑ / ↓, Home / End, Enter", say: "hk_list" },
  { keys: "Alt+R", say: "hk_reply", alt: "KeyR" },
  { keys: "/", say: "hk_quick" },
  { keys: "Enter / Shift+Enter", say: "hk_send" },
  { keys: "Alt+T", say: "hk_transfer", alt: "KeyT" },
  { keys: "Alt+E", say: "hk_close", alt: "KeyE" },
  { keys: "Alt+D", say: "hk_discount", alt: "KeyD" },
  { keys: "Alt+F", say: "hk_faq", alt: "KeyF" },
  { keys: "Alt+1…6", say: "hk_tabs" },
  { keys: "?", say: "hk_help" },
  { keys: "Esc", say: "hk_esc" },
  { keys: "Tab / Shift+Tab", say: "hk_tab" },
];

addStrings({
  en: {
    hk_next_prev: "Next / previous conversation", hk_list: "Move in the conversation list, open one",
    hk_reply: "Focus the reply box", hk_quick: "Quick replies (in the reply box)", hk_send: "Send / new line",
    hk_transfer: "Transfer", hk_close: "Close with a resolution", hk_discount: "Request a discount approval",
    hk_faq: "Search the FAQ", hk_tabs: "Inbox, supervisor, rules, team, records, reports", hk_help: "This help",
    hk_esc: "Close a dialog or the quick replies", hk_tab: "Next / previous control (stays inside an open dialog)",
  },
  zh: {
    hk_next_prev: "下一个 / 上一个会话", hk_list: "在会话列表中移动，打开会话",
    hk_reply: "聚焦回复框", hk_quick: "快捷回复（在回复框中）", hk_send: "发送 / 换行",
    hk_transfer: "转接", hk_close: "结束会话", hk_discount: "申请优惠审批",
    hk_faq: "搜索知识库", hk_tabs: "会话、主管、规则、团队、会话记录、报表", hk_help: "显示本帮助",
    hk_esc: "关闭对话框或快捷回复", hk_tab: "下一个 / 上一个控件（对话框打开时留在对话框内）",
  },
});

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

// The conversation the open transfer dialog is about: if it is closed or moved elsewhere while the
// dialog is open, the server refuses the transfer by name (会话已结束), not a frame without an id.
let transferring = null;

export async function openTransfer() {
  if (!needConversation()) return;
  transferring = state.current;
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
    const frame = { type: "transfer", conversation_id: transferring || state.current, note: $("transfer-note").value.trim() };
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
    // data-i18n: switching the language rewords an open overlay too.
    tr.append(el("th", "", s.keys, { scope: "row" }), el("td", "", t(s.say), { "data-i18n": s.say }));
    tbody.append(tr);
  }
}

export function openHelp() {
  drawHelp();
  $("help-dlg").showModal();
}
