// Waiting for the customer: the agent parks the open chat (until the customer writes, or until a
// time); it moves to the list's "Waiting for customer" section, its SLA clock pauses, and it comes
// back when the customer writes, when its time comes, or when the agent takes it back. It stays
// the agent's own chat and counts toward their cap (docs/console.md).
import { $, clock, el, toast } from "./dom.js";
import { send } from "./conn.js";
import { addStrings, t, tf } from "./i18n.js";
import { changed, customerName, state } from "./state.js";

addStrings({
  en: {
    wait_btn: "Wait for customer", unwait_btn: "Back to active", wait_h: "Wait for the customer",
    wait_until: "Until", wait_reply: "they write", wait_30m: "30 minutes", wait_1h: "1 hour", wait_4h: "4 hours",
    wait_tomorrow: "tomorrow 09:00", wait_ok: "Wait", waiting_section: "Waiting for customer",
    waiting_for_reply: "until they write", waiting_until_time: "until {time}",
    woke_customer: "{name} wrote: back in your active chats", woke_timer: "{name}: the waiting time is up",
  },
  zh: {
    wait_btn: "等待客户", unwait_btn: "恢复处理", wait_h: "等待客户回复",
    wait_until: "等待到", wait_reply: "客户回复为止", wait_30m: "30 分钟", wait_1h: "1 小时", wait_4h: "4 小时",
    wait_tomorrow: "明天 09:00", wait_ok: "等待", waiting_section: "等待客户",
    waiting_for_reply: "等客户回复", waiting_until_time: "等到 {time}",
    woke_customer: "{name} 回复了，已回到处理中", woke_timer: "{name}：等待时间已到",
  },
});

export const isWaiting = (c) => !!c?.conv?.waiting;

export function waitingText(conv) {
  return conv.waiting_until ? tf("waiting_until_time", { time: clock(conv.waiting_until) }) : t("waiting_for_reply");
}

function untilFor(choice) {
  const d = new Date();
  if (choice === "reply") return null;
  if (choice === "tomorrow") {
    d.setDate(d.getDate() + 1);
    d.setHours(9, 0, 0, 0);
    return d.getTime() / 1000;
  }
  return d.getTime() / 1000 + Number(choice);
}

// The thread header's button: park the open chat, or take it back.
export function drawWaitButton() {
  const c = state.current && state.convs.get(state.current);
  const btn = $("wait-btn");
  if (!btn || !c) return;
  btn.textContent = isWaiting(c) ? t("unwait_btn") : t("wait_btn");
  btn.setAttribute("aria-pressed", isWaiting(c) ? "true" : "false");
}

export function waitingFrame(f) {
  const c = state.convs.get(f.conversation_id);
  if (!c) return;
  c.conv.waiting = !!f.waiting;
  c.conv.waiting_until = f.waiting ? f.until ?? null : null;
  const name = customerName(c.conv, t("visitor"));
  if (!f.waiting && f.reason === "customer") toast(tf("woke_customer", { name }));
  if (!f.waiting && f.reason === "timer") toast(tf("woke_timer", { name }), "warn");
  changed("list");
  changed("conv", f.conversation_id);
}

export function initWaiting() {
  $("wait-btn").addEventListener("click", () => {
    const c = state.current && state.convs.get(state.current);
    if (!c) return;
    if (isWaiting(c)) {
      if (!send({ type: "unwait", conversation_id: c.conv.id })) toast(t("offline"), "error");
      return;
    }
    $("wait-choice").value = "reply";
    $("wait-dlg").showModal();
    $("wait-choice").focus();
  });
  $("wait-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const frame = { type: "wait", conversation_id: state.current };
    const until = untilFor($("wait-choice").value);
    if (until) frame.until = until;
    if (!send(frame)) toast(t("offline"), "error");
    $("wait-dlg").close();
  });
}
