// Private notes: the composer's Note mode sends a `note` frame instead of a reply (the customer
// never gets it), notes show highlighted in the thread, and a `mention` frame (@id) is a toast.
import { $, beep, el, toast } from "./dom.js";
import { addStrings, t } from "./i18n.js";
import { state } from "./state.js";

addStrings({
  en: { note_mode: "Note", note_mode_title: "Write a private note: staff see it, the customer never does",
        note_ph: "Private note… the customer never sees it. @id notifies a colleague.", note_label: "Private note",
        mentioned_you: "{by} mentioned you", mention_open: "Open the conversation" },
  zh: { note_mode: "备注", note_mode_title: "写内部备注：同事可见，客户永远看不到",
        note_ph: "内部备注……客户看不到。@工号 可提醒同事。", note_label: "内部备注",
        mentioned_you: "{by} 在备注中提到了你", mention_open: "打开会话" },
});

let on = false;

export const noteMode = () => on;

function show() {
  const button = $("note-btn");
  const box = $("reply-text");
  button.setAttribute("aria-pressed", String(on));
  $("reply").classList.toggle("note-mode", on);
  box.placeholder = on ? t("note_ph") : t("placeholder");
}

export function setNoteMode(value) {
  on = value;
  if ($("note-btn")) show();
}

// The button sits beside Send; Alt+N switches too. Switching conversations keeps the mode
// visible, so an agent always sees which kind of message the box will send.
export function initNotes() {
  const col = $("reply").querySelector(".col");
  if (!col || $("note-btn")) return;
  const button = el("button", "secondary note-toggle", t("note_mode"),
    { type: "button", id: "note-btn", "aria-pressed": "false", title: t("note_mode_title"), "aria-keyshortcuts": "Alt+N",
      "data-i18n": "note_mode" });
  button.addEventListener("click", () => { setNoteMode(!on); $("reply-text").focus(); });
  col.insertBefore(button, col.children[1] || null);
  document.addEventListener("keydown", (e) => {
    if (e.altKey && (e.key === "n" || e.key === "N")) { e.preventDefault(); setNoteMode(!on); $("reply-text").focus(); }
  });
}

// The frame a note is sent as, and the message shown at once (replaced by the server's on ack).
export function noteFrame(cid, text, clientMsgId, me) {
  return {
    frame: { type: "note", conversation_id: cid, text, client_msg_id: clientMsgId },
    message: { id: clientMsgId, client_msg_id: clientMsgId, from: "agent", text, note: true,
               agent_id: me, ts: Date.now() / 1000, pendingNote: true },
  };
}

export function noteLabel() {
  return el("div", "note-label", t("note_label"));
}

export function mentioned(f) {
  beep();
  const who = f.by_name || f.by;
  // The link opens it in the reader: a conversation that is not ours is readable once a note names us.
  toast(`${t("mentioned_you").replace("{by}", who)}: ${f.message?.text || ""}`, "warn",
    { href: `#records/${encodeURIComponent(f.conversation_id)}`, label: t("mention_open") });
}

// The server's copy of our own note can come (as a `message` frame) before the ack that renames
// ours; then ours goes at once, so the thread never shows the note twice, not even for a moment.
export function dropPendingNote(cid, m) {
  const c = state.convs.get(cid);
  if (!c || !m.note || m.agent_id !== state.me?.id) return;
  for (const [key, mine] of c.messages) {
    if (mine.pendingNote && mine.text === m.text && key !== m.id) { c.messages.delete(key); return; }
  }
}
