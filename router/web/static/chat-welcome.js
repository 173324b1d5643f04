// What the chat shows before anyone has written: the shop's welcome card in its own colours
// (channels.webchat.welcome, from GET /api/v1/webchat/widget), whether anyone is online (away
// mode), and the 转人工 button, which asks for a person the way typing "转人工" does.
import { fmt } from "./chat-i18n.js";

const $ = (id) => document.getElementById(id);

export async function loadStart() {
  try {
    const r = await fetch("/api/v1/webchat/widget", { cache: "no-store" });
    if (r.ok) return await r.json();
  } catch { /* the page works without it: default colours, no card, no away offer */ }
  return null;
}

// The server picked the text colour that passes WCAG AA on the shop's colour.
export function brand(w) {
  const root = document.documentElement.style;
  root.setProperty("--brand", w.colour);
  root.setProperty("--brand-text", w.text_colour);
  document.body.classList.add("branded");
}

export function showWelcome(T, w) {
  $("welcome-name").textContent = w.name;
  $("welcome-text").textContent = w.greeting?.[T.lang.slice(0, 2)] || T.welcome_text;
  if (w.logo) {
    $("welcome-logo").src = w.logo;
    $("welcome-logo").alt = fmt(T.logo_alt, { name: w.name });
    $("welcome-logo").hidden = false;
  }
  $("welcome").hidden = false;
}

export function hideWelcome() { $("welcome").hidden = true; }

// The 转人工 button says where the request stands: asking, waiting in line, or with a person.
// `conv` is the page's view of the conversation ({state} or null).
export function handoffButton(T, conv, asking) {
  const b = $("handoff");
  const where = conv?.state === "assigned" ? "handoff_assigned" : conv?.state === "queued" ? "handoff_queued"
    : asking ? "handoff_asking" : "";
  b.textContent = where ? T[where] : T.handoff;
  b.disabled = Boolean(where);
  b.title = where ? "" : T.handoff_hint;
}
