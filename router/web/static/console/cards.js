// Mini program page cards: the composer's "Send page card" (shown only where the channel says it
// can, `page_cards` in GET /api/v1/channels), and the card as the thread shows it. The thumbnail
// is uploaded like an attachment (POST /api/v1/media); the reply frame names it by its url.
import { send } from "./conn.js";
import { $, el, now } from "./dom.js";
import { t } from "./i18n.js";
import { refusalText, statusText } from "./refusals.js";
import { changed, state } from "./state.js";

// The node that shows a message's page card, or null when it carries none.
export function cardNode(m) {
  const card = m.card;
  if (!card || typeof card !== "object") return null;
  const box = el("figure", "page-card");
  if (card.thumb_url) box.append(el("img", "", undefined, { src: card.thumb_url, alt: "", loading: "lazy" }));
  const cap = el("figcaption");
  cap.append(el("strong", "", card.title || ""), el("div", "muted", card.pagepath || ""),
             el("div", "muted small", t("card_label")));
  box.append(cap);
  return box;
}

function fail(why) {
  $("card-error").textContent = why;
}

async function submit(e) {
  e.preventDefault();
  const cid = state.current;
  const title = $("card-title").value.trim();
  const pagepath = $("card-path").value.trim();
  const file = $("card-thumb").files[0];
  if (!cid || !title || !pagepath || !file) { fail(t("card_missing")); return; }
  fail("");
  const form = new FormData();
  form.append("conversation_id", cid);
  form.append("file", file, file.name || "thumb.png");
  let body = null;
  try {
    const r = await fetch("/api/v1/media", { method: "POST", body: form, credentials: "same-origin" });
    body = await r.json().catch(() => null);
    if (r.status !== 201 || !body) { fail(`${t("upload_failed")}: ${refusalText(body, statusText(r.status))}`); return; }
  } catch {
    fail(t("upload_failed"));
    return;
  }
  const card = { title, pagepath, thumb_url: body.url };
  const text = $("reply-text").value.trim();
  const client_msg_id = crypto.randomUUID();
  const online = send({ type: "reply", conversation_id: cid, text, card, client_msg_id });
  state.convs.get(cid)?.messages.set(client_msg_id, {
    id: client_msg_id, client_msg_id, from: "agent", text, ts: now(), kind: "link",
    card: { title, pagepath, thumb_url: body.media?.url || body.url },
    delivery: { status: online ? "sending" : "queued_send" },
  });
  if (text) { $("reply-text").value = ""; $("reply-text").dispatchEvent(new Event("input")); }
  $("card-form").reset();
  $("card-dlg").close();
  changed("messages", cid);
}

export function initCards() {
  $("card-btn").addEventListener("click", () => {
    fail("");
    $("card-dlg").showModal();
    $("card-title").focus();
  });
  $("card-form").addEventListener("submit", submit);
  $("card-dlg").querySelector("[data-cancel]").addEventListener("click", () => $("card-dlg").close());
}
