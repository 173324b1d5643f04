// Read receipts (docs/protocol.md, "read"): while a chat is open and this page is visible, the
// console tells the server the newest customer message it shows; the customer's web chat marks
// their messages 已读 / Read. Channels without receipts take the frame and do nothing with it.
import { send } from "./conn.js";
import { state } from "./state.js";

const told = new Map(); // conversation id -> the newest message id already sent

export function tellRead() {
  if (document.hidden || !state.current) return;
  const c = state.convs.get(state.current);
  if (!c) return;
  let newest = "";
  // Server ids (m_...) grow with time; an optimistic copy's client id is not one.
  for (const m of c.messages.values()) if (m.from === "customer" && m.id?.startsWith("m_") && m.id > newest) newest = m.id;
  if (!newest || newest <= (told.get(c.conv.id) || "")) return;
  if (send({ type: "read", conversation_id: c.conv.id, message_id: newest })) told.set(c.conv.id, newest);
}
