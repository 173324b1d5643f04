// Keyboard and screen-reader plumbing shared by the whole console (issue 19): the skip links, and
// dialogs that keep focus inside while open and give it back to what opened them.
import { $ } from "./dom.js";
import { addStrings } from "./i18n.js";

addStrings({
  en: { skip_main: "Skip to main content", skip_reply: "Skip to the reply box", thread: "Messages" },
  zh: { skip_main: "跳到主要内容", skip_reply: "跳到回复框", thread: "消息记录" },
});

const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])";

const usable = (e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0 && !e.closest("[hidden], [inert]");

export function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter(usable);
}

// The last thing focused outside any dialog: where focus goes back when a dialog closes.
let opener = null;

function trapTab(e) {
  const dlg = document.querySelector("dialog[open]");
  if (e.key !== "Tab" || !dlg) return;
  const items = focusables(dlg);
  if (!items.length) { e.preventDefault(); return; }
  const first = items[0];
  const last = items.at(-1);
  const inside = dlg.contains(document.activeElement);
  // The browser would let Tab leave a modal dialog for its own toolbar; here it goes round.
  if (e.shiftKey && (document.activeElement === first || !inside)) { e.preventDefault(); last.focus(); }
  else if (!e.shiftKey && (document.activeElement === last || !inside)) { e.preventDefault(); first.focus(); }
}

// After a dialog closes, focus returns to its opener, unless the code that closed it already put
// focus somewhere on purpose (the FAQ puts it in the reply box). An opener that went away with the
// dialog's action (Close removes the chat and its buttons) hands focus to the reply box or the list.
function restore() {
  const now = document.activeElement;
  if (now && now !== document.body && !now.closest("dialog") && usable(now)) return;
  const target = [opener, $("reply-text"), document.querySelector("#convs .conv"), $("main")]
    .find((e) => e && e.isConnected && (usable(e) || e.id === "main"));
  target?.focus();
}

// A frame may take away the element that has focus: a chat's `closed` frame hides its reply box,
// also when it comes after the close dialog has already given focus back to the Send button (a
// slow server), or when the chat was closed elsewhere. The browser then leaves focus on the page
// body, where a keyboard user is lost; it goes to the reply box, the list or the main area instead.
// Only when focus was in the page and its element went away: a click on a blank spot stays put.
export function refocus() {
  if (document.querySelector("dialog[open]")) return;
  const now = document.activeElement;
  // The browser moves focus off a hidden element only at its next style update, so the element
  // that lost its place may still be the active one here.
  const gone = now && now !== document.body ? !(now.isConnected && usable(now))
    : !!opener && !(opener.isConnected && usable(opener));
  if (gone) restore();
}

export function initA11y() {
  document.addEventListener("focusin", (e) => {
    if (!e.target.closest?.("dialog")) opener = e.target;
  });
  document.addEventListener("keydown", trapTab, true);
  for (const dlg of document.querySelectorAll("dialog")) {
    dlg.addEventListener("close", () => setTimeout(restore, 0));
  }
  // Skip links move focus themselves: following "#main" would change the address, which names tabs.
  for (const a of document.querySelectorAll("a.skip[data-skip]")) {
    a.addEventListener("click", (e) => {
      e.preventDefault();
      const target = $(a.dataset.skip);
      if (a.dataset.skip === "reply-text" && (!target || !usable(target))) { $("main").focus(); return; }
      target?.focus();
    });
  }
}
