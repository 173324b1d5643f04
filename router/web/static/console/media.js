// Files in the console: thumbnails in the thread that open a lightbox (zoom, download), players
// for voice and video, a download link for anything else; the composer's attach button and
// pasted screenshots; and, when the bot handed a photo over, that photo pinned above the thread.
// The console's session cookie is the credential for every file (GET /api/v1/media/{id}).
import { send } from "./conn.js";
import { $, el, now, toast } from "./dom.js";
import { t } from "./i18n.js";
import { refusalText, statusText } from "./refusals.js";
import { changed, state } from "./state.js";

const src = (media, extra = "") => `/api/v1/media/${encodeURIComponent(media.id)}${extra}`;

// The node that shows a message's file, or null when it carries none.
export function mediaNode(m) {
  const media = m.media;
  if (!media || typeof media !== "object") return null;
  const mime = media.mime || "";
  const fig = el("figure", "media");
  if (mime.startsWith("image/")) {
    const open = el("button", "thumb", undefined, { type: "button", "aria-label": t("open_photo") });
    const img = el("img", "", undefined, { src: src(media, media.thumb_url ? "?thumb=1" : ""),
                                             alt: media.name || t("photo"), loading: "lazy" });
    if (media.width && media.height) img.title = `${media.width} × ${media.height}`;
    open.append(img);
    open.addEventListener("click", () => openLightbox(media));
    fig.append(open);
  } else if (mime.startsWith("audio/") || mime.startsWith("video/")) {
    const player = el(mime.startsWith("audio/") ? "audio" : "video", "", undefined,
                      { controls: "", preload: "metadata", src: src(media) });
    fig.append(player);
  } else {
    fig.append(el("a", "file", `${media.name || t("file")} (${Math.ceil((media.size || 0) / 1024)} KB)`,
                  { href: src(media, "?download=1"), download: media.name || "" }));
  }
  return fig;
}

// -- the lightbox ----------------------------------------------------------------------------
let zoom = 1;

function setZoom(z) {
  zoom = Math.min(8, Math.max(0.25, z));
  $("lightbox-img").style.transform = `scale(${zoom})`;
  $("lightbox-zoom").textContent = `${Math.round(zoom * 100)}%`;
}

export function openLightbox(media) {
  const dlg = $("lightbox");
  $("lightbox-img").src = src(media);
  $("lightbox-img").alt = media.name || t("photo");
  $("lightbox-download").href = src(media, "?download=1");
  $("lightbox-download").setAttribute("download", media.name || "");
  $("lightbox-name").textContent = [media.name, media.width && `${media.width} × ${media.height}`]
    .filter(Boolean).join(" · ");
  setZoom(1);
  dlg.showModal();
}

// -- the bot's photo handoff -----------------------------------------------------------------
// The bot hands a photo to a person with reason "media": the photo is why the chat is here, so it
// stays in view above the thread however long the conversation grows.
export function renderPinned(c) {
  const box = $("pinned");
  const photo = c?.conv?.bot?.reason === "media"
    ? [...c.messages.values()].find((m) => m.from === "customer" && m.media?.mime?.startsWith("image/"))
    : null;
  box.hidden = !photo;
  if (!photo) { box.replaceChildren(); box.dataset.id = ""; return; }
  if (box.dataset.id === photo.media.id) return;
  box.dataset.id = photo.media.id;
  box.replaceChildren(el("span", "muted", t("handed_photo")), mediaNode(photo));
}

// -- attaching -------------------------------------------------------------------------------
function upload(file) {
  const cid = state.current;
  if (!cid) return;
  const status = $("attach-status");
  const bar = el("progress", "", undefined, { max: "1", value: "0", "aria-label": t("uploading") });
  status.replaceChildren(el("span", "", file.name || t("photo")), bar);
  status.hidden = false;
  const form = new FormData();
  form.append("conversation_id", cid);
  form.append("file", file, file.name || "screenshot.png");
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/v1/media");
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  xhr.onload = () => {
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status !== 201 || !body) {
      status.replaceChildren(el("span", "bad", `${t("upload_failed")}: ${refusalText(body, statusText(xhr.status))}`));
      toast(`${t("upload_failed")}: ${refusalText(body, statusText(xhr.status))}`, "error");
      return;
    }
    status.hidden = true;
    const text = $("reply-text").value.trim();
    const client_msg_id = crypto.randomUUID();
    const online = send({ type: "reply", conversation_id: cid, media_id: body.media_id, text, client_msg_id });
    const c = state.convs.get(cid);
    c?.messages.set(client_msg_id, { id: client_msg_id, client_msg_id, from: "agent", text, ts: now(),
      kind: body.kind, media: body.media, delivery: { status: online ? "sending" : "queued_send" } });
    if (text) { $("reply-text").value = ""; $("reply-text").dispatchEvent(new Event("input")); }
    changed("messages", cid);
  };
  xhr.onerror = () => {
    status.replaceChildren(el("span", "bad", t("upload_failed")));
    const again = el("button", "secondary small", t("retry"), { type: "button" });
    again.addEventListener("click", () => upload(file));
    status.append(again);
  };
  xhr.send(form);
}

export function initMedia() {
  $("attach-btn").addEventListener("click", () => $("attach-file").click());
  $("attach-file").addEventListener("change", () => {
    for (const f of $("attach-file").files) upload(f);
    $("attach-file").value = "";
  });
  $("reply-text").addEventListener("paste", (e) => {
    const shots = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (!shots.length) return;
    e.preventDefault();
    shots.forEach(upload);
  });
  $("lightbox-in").addEventListener("click", () => setZoom(zoom * 1.5));
  $("lightbox-out").addEventListener("click", () => setZoom(zoom / 1.5));
  $("lightbox-fit").addEventListener("click", () => setZoom(1));
  $("lightbox-close").addEventListener("click", () => $("lightbox").close());
  $("lightbox-stage").addEventListener("wheel", (e) => {
    e.preventDefault();
    setZoom(zoom * (e.deltaY < 0 ? 1.2 : 1 / 1.2));
  }, { passive: false });
}
