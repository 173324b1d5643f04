// The unified queue: every channel in one list, most urgent first, with timers that tick.
import { $, duration, el, isAvatar, now, pressHold } from "./dom.js";
import { t } from "./i18n.js";
import { customerName, slaDue, slaLevel, sorted, state, waitingSince } from "./state.js";
import { drawBar, pickBox } from "./bulk.js";
import { isWaiting, waitingText } from "./waiting.js";

const rows = new Map(); // conversation id -> <li>, reused so focus survives a re-render
let onSelect = () => {};
// The one row in the Tab order (a roving tabindex): Tab passes the list in one step however long
// it is, and the arrow keys move within it. It follows the keyboard, else the open chat.
let roving = null;
// The rows' insides are rebuilt at each redraw: without this an agent's click on a chat was lost
// whenever a tick or a frame came between the press and the release (dom.js pressHold).
let held = () => false;

export function initQueue(select) {
  onSelect = select;
  setInterval(renderQueue, 1000);
  const ul = $("convs");
  ul.addEventListener("keydown", (e) => {
    const buttons = [...ul.querySelectorAll("button.conv")];
    const i = buttons.indexOf(e.target);
    if (i < 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = buttons[Math.max(0, Math.min(buttons.length - 1, to))];
    rove(ul, next.dataset.id);
    next.focus();
  });
  ul.addEventListener("focusin", (e) => { if (e.target.dataset?.id) rove(ul, e.target.dataset.id); });
  held = pressHold([ul, $("waiting-convs")], renderQueue);
}

// Move the Tab stop to a row and its tick box at once, not at the next render: a Tab pressed
// right after focusing a row must reach that row's box.
function rove(ul, id) {
  roving = id;
  for (const x of ul.querySelectorAll("button.conv, input.pick")) x.tabIndex = x.dataset.id === id ? 0 : -1;
}

function lastText(c) {
  const msgs = [...c.messages.values()].filter((m) => !m.note);
  const last = msgs.at(-1);
  if (!last) return "";
  return last.text || (last.media ? `[${last.kind || "media"}]` : "");
}

// `tabbable`: the active list has one Tab stop (roving); the waiting list, short, has each row.
function fillRow(li, c, at, tabbable) {
  const conv = c.conv;
  const cust = conv.customer || {};
  let btn = li.querySelector("button.conv");
  if (!btn) {
    btn = el("button", "conv", undefined, { type: "button", "data-id": conv.id });
    btn.addEventListener("click", () => onSelect(conv.id));
    li.prepend(btn);
  }
  pickBox(li, conv, tabbable);
  const parts = [];
  const chan = conv.channel || "webchat";
  parts.push(el("span", `chan chan-${chan}`, chan, { title: `${chan}${conv.account ? ` · ${conv.account}` : ""}` }));
  const who = el("span", "who", customerName(conv, t("visitor")));
  // The channel's picture of the customer, when it gave one (WeChat); decoration, so no alt text.
  if (isAvatar(cust.avatar)) who.prepend(el("img", "avatar small", undefined, { src: cust.avatar, alt: "" }), " ");
  if (cust.segment === "vip") who.append(el("span", "badge vip", t("vip")));
  parts.push(who);
  const timers = el("span", "timers");
  const since = isWaiting(c) ? 0 : waitingSince(c);
  if (since) timers.append(el("span", "wait", `${t("waiting")} ${duration(at - since)}`));
  if (isWaiting(c)) timers.append(el("span", "parked", waitingText(conv)));
  const level = isWaiting(c) ? null : slaLevel(conv, at);
  if (level) {
    const due = slaDue(conv);
    const text = level === "met" ? t("sla_met")
      : level === "red" ? `${t("sla_breached")}${due ? ` +${duration(at - due)}` : ""}`
        : `${t("sla_left")} ${duration(due - at)}`;
    timers.append(el("span", `sla sla-${level}`, text));
  }
  parts.push(timers);
  if (c.unread && conv.id !== state.current) {
    parts.push(el("span", "unread", String(c.unread), { "aria-label": `${c.unread} ${t("unread")}` }));
  }
  parts.push(el("span", "preview", lastText(c)));
  btn.tabIndex = tabbable ? 0 : -1;
  if (conv.id === state.current) btn.setAttribute("aria-current", "true");
  else btn.removeAttribute("aria-current");
  li.className = conv.id === state.current ? "active" : "";
  btn.replaceChildren(...parts);
}

export function renderQueue() {
  const ul = $("convs");
  if (!ul) return;
  if (held()) return;
  const at = now();
  const order = sorted(at);
  if (!state.convs.has(roving) || !$("convs").contains(document.activeElement)) {
    roving = state.convs.has(state.current) ? state.current : order[0]?.conv.id ?? null;
  }
  for (const id of [...rows.keys()]) {
    if (!state.convs.has(id)) { rows.get(id).remove(); rows.delete(id); }
  }
  const active = order.filter((c) => !isWaiting(c));
  const parked = order.filter(isWaiting);
  if (roving && isWaiting(state.convs.get(roving))) roving = active[0]?.conv.id ?? null;
  const place = (list, into, tabbable) => list.forEach((c, i) => {
    let li = rows.get(c.conv.id);
    if (!li) { li = el("li"); rows.set(c.conv.id, li); }
    fillRow(li, c, at, tabbable(c));
    if (into.children[i] !== li) into.insertBefore(li, into.children[i] || null);
  });
  place(active, ul, (c) => c.conv.id === roving);
  place(parked, $("waiting-convs"), () => true);
  $("waiting-section").hidden = parked.length === 0;
  $("queue-empty").hidden = active.length > 0;
  drawBar();
  updateTitle();
}

// Title badge: unread messages across conversations, so a background tab still says "look".
export function updateTitle() {
  let unread = 0;
  for (const c of state.convs.values()) if (c.conv.id !== state.current || document.hidden) unread += c.unread;
  document.title = `${unread ? `(${unread}) ` : ""}${t("title")}`;
}

// Alt+ArrowDown/Up walk the list in its on-screen order.
export function neighbour(step) {
  const order = sorted().map((c) => c.conv.id);
  if (!order.length) return null;
  const i = order.indexOf(state.current);
  return order[(i + step + order.length) % order.length] ?? order[0];
}
