// Desktop notifications and the sound switch (issue 19). The browser's permission prompt appears
// only when the agent presses "Notifications" in the header, never on load: a prompt nobody asked
// for is usually refused, and a refusal is hard to undo. A notification shows only while the tab
// is hidden (a visible console already shows the chat); clicking it brings the tab forward and
// opens that chat. Both choices live in localStorage, per browser.
import { $, toast } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";

addStrings({
  en: {
    notify: "Notifications", notify_hint: "Desktop notifications of new chats and messages while this tab is hidden",
    notify_started: "You will be notified of new chats and messages while this tab is hidden.",
    notify_stopped: "Desktop notifications are off.",
    notify_denied: "This browser blocks notifications from this site; allow them in its site settings.",
    notify_new_chat: "New chat: {name}", notify_new_msg: "{name} wrote",
    sound: "Sound", sound_hint: "A short tone for new chats and messages",
  },
  zh: {
    notify: "桌面通知", notify_hint: "本页在后台时，新会话和新消息以桌面通知提醒",
    notify_started: "本页在后台时，新会话和新消息会以桌面通知提醒你。",
    notify_stopped: "桌面通知已关闭。",
    notify_denied: "浏览器已禁止本站的通知，请在浏览器的网站设置中允许。",
    notify_new_chat: "新会话：{name}", notify_new_msg: "{name} 发来消息",
    sound: "提示音", sound_hint: "新会话和新消息时播放短促提示音",
  },
});

const NOTIFY_KEY = "kefu.notify";
const SOUND_KEY = "kefu.sound";
let onOpen = () => {};

const supported = () => typeof window.Notification === "function";
const wanted = () => localStorage.getItem(NOTIFY_KEY) === "on";
export const notifying = () => supported() && Notification.permission === "granted" && wanted();
export const soundOn = () => localStorage.getItem(SOUND_KEY) !== "off";

function draw() {
  const n = $("notify-btn");
  n.hidden = !supported();
  n.setAttribute("aria-pressed", String(notifying()));
  n.title = t("notify_hint");
  const s = $("sound-btn");
  s.setAttribute("aria-pressed", String(soundOn()));
  s.title = t("sound_hint");
}

async function toggleNotify() {
  if (notifying()) {
    localStorage.setItem(NOTIFY_KEY, "off");
    draw();
    toast(t("notify_stopped"));
    return;
  }
  let permission = Notification.permission;
  if (permission === "default") permission = await Notification.requestPermission();
  if (permission !== "granted") { draw(); toast(t("notify_denied"), "warn"); return; }
  localStorage.setItem(NOTIFY_KEY, "on");
  draw();
  toast(t("notify_started"));
}

// `open(conversationId)` is what a click on a notification does.
export function initNotify(open) {
  onOpen = open;
  $("notify-btn").addEventListener("click", toggleNotify);
  $("sound-btn").addEventListener("click", () => {
    localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
    draw();
  });
  draw();
}

export function redrawNotify() {
  draw();
}

function show(title, body, conversationId) {
  if (!document.hidden || !notifying()) return;
  try {
    // One notification per chat (its tag): a second message replaces the first instead of stacking.
    const n = new Notification(title, { body: String(body || "").slice(0, 140), tag: conversationId, renotify: true });
    n.onclick = () => { window.focus(); onOpen(conversationId); n.close(); };
  } catch { /* a browser that allows notifications only from a service worker: the toast and tone remain */ }
}

export function notifyNewChat(name, text, conversationId) {
  show(tf("notify_new_chat", { name }), text, conversationId);
}

export function notifyMessage(name, text, conversationId) {
  show(tf("notify_new_msg", { name }), text, conversationId);
}
