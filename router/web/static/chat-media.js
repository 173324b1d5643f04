// Photos and files in the web chat: pick (paperclip, or the camera on a phone), paste or drop an
// image; it uploads with a progress bar under its preview, then goes as a message frame carrying
// `media_id`. A failed upload keeps its preview and offers a retry. Files shown in the log are
// read through short-lived signed links (an <img> cannot send the session as a bearer token).
import { fmt, refusalText } from "./chat-i18n.js";

const LINK_TTL_MS = 240_000; // under the server's media.signed_url_s (300 s by default)
const links = new Map(); // media id -> {at, url, thumb_url}

export class Attachments {
  // `session()` gives the bearer; `sent(entry, media)` sends the message frame once uploaded;
  // `update(entry)` saves the history. Each entry is a message object of the log.
  constructor(T, { session, sent, update }) {
    this.T = T;
    this.session = session;
    this.sent = sent;
    this.update = update;
    this.files = new Map(); // client_msg_id -> File, while its upload is not done
  }

  wire({ button, input, dropTarget, pasteTarget, phone }) {
    if (phone) {
      // A phone opens its camera straight away; the gallery stays one tap further.
      input.accept = "image/*";
      input.setAttribute("capture", "environment");
    }
    button.addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      for (const file of input.files) this.add(file);
      input.value = "";
    });
    pasteTarget.addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
      if (!files.length) return;
      e.preventDefault();
      files.forEach((f) => this.add(f));
    });
    dropTarget.addEventListener("dragover", (e) => { e.preventDefault(); dropTarget.classList.add("dropping"); });
    dropTarget.addEventListener("dragleave", () => dropTarget.classList.remove("dropping"));
    dropTarget.addEventListener("drop", (e) => {
      e.preventDefault();
      dropTarget.classList.remove("dropping");
      for (const f of e.dataTransfer?.files || []) this.add(f);
    });
  }

  // A new outgoing file: shown at once with its preview, then uploaded.
  add(file) {
    const entry = { client_msg_id: crypto.randomUUID(), from: "customer", text: "", ts: Date.now() / 1000,
                    pending: true, upload: { name: file.name, size: file.size, type: file.type } };
    this.files.set(entry.client_msg_id, file);
    this.onAdd(entry);
    this.upload(entry);
  }

  upload(entry) {
    const file = this.files.get(entry.client_msg_id);
    const li = document.querySelector(`[data-id="${CSS.escape(entry.client_msg_id)}"]`);
    if (!file) { this.failed(entry, li, this.T.upload_lost, false); return; }
    entry.upload.error = null;
    const bar = li?.querySelector("progress");
    li?.querySelector(".upload-error")?.remove();
    if (bar) { bar.hidden = false; bar.value = 0; }
    const form = new FormData();
    form.append("file", file, file.name || "photo");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/webchat/uploads");
    xhr.setRequestHeader("Authorization", `Bearer ${this.session()}`);
    xhr.upload.onprogress = (e) => { if (bar && e.lengthComputable) bar.value = e.loaded / e.total; };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: a proxy's page */ }
      if (xhr.status === 201 && body) {
        this.files.delete(entry.client_msg_id);
        entry.media_id = body.media_id;
        entry.media = body.media;
        delete entry.upload;
        if (bar) bar.hidden = true;
        this.update(entry);
        this.sent(entry);
        return;
      }
      // 413/415/422 say why the file is refused; anything else may pass on a second try.
      const refused = [413, 415, 422].includes(xhr.status);
      this.failed(entry, li, refusalText(this.T, body, fmt(this.T.re_fallback, { code: xhr.status })), !refused);
    };
    xhr.onerror = () => this.failed(entry, li, this.T.upload_network, true);
    xhr.send(form);
  }

  failed(entry, li, detail, canRetry) {
    entry.upload = { ...(entry.upload || {}), error: detail };
    this.update(entry);
    if (!li) return;
    li.querySelector("progress")?.setAttribute("hidden", "");
    li.querySelector(".upload-error")?.remove();
    const box = document.createElement("div");
    box.className = "upload-error";
    box.setAttribute("role", "alert");
    const why = document.createElement("span");
    why.textContent = fmt(this.T.upload_failed, { detail });
    box.append(why);
    if (canRetry && this.files.has(entry.client_msg_id)) {
      const again = document.createElement("button");
      again.type = "button";
      again.className = "secondary small";
      again.textContent = this.T.upload_retry;
      again.addEventListener("click", () => this.upload(entry));
      box.append(again);
    }
    li.append(box);
  }

  // The picture (or player, or download link) of a message, into `li`.
  show(m, li) {
    if (m.upload) {
      const file = this.files.get(m.client_msg_id);
      if (!file && !m.upload.error) m.upload.error = this.T.upload_lost; // the page was reloaded
      const fig = document.createElement("figure");
      fig.className = "media";
      if (file && file.type.startsWith("image/")) {
        const img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = m.upload.name || this.T.photo;
        fig.append(img);
      } else {
        fig.append(m.upload.name || this.T.file);
      }
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      bar.setAttribute("aria-label", this.T.uploading);
      fig.append(bar);
      li.append(fig);
      if (m.upload.error) queueMicrotask(() => this.failed(m, li, m.upload.error, this.files.has(m.client_msg_id)));
      return;
    }
    if (!m.media) return;
    const fig = document.createElement("figure");
    fig.className = "media";
    li.append(fig);
    this.link(m.media).then((link) => {
      const mime = m.media.mime || "";
      if (mime.startsWith("image/")) {
        const a = document.createElement("a");
        a.href = link.url;
        a.target = "_blank";
        a.rel = "noopener";
        const img = document.createElement("img");
        img.src = link.thumb_url || link.url;
        img.alt = m.media.name || this.T.photo;
        a.append(img);
        fig.append(a);
      } else if (mime.startsWith("audio/") || mime.startsWith("video/")) {
        const player = document.createElement(mime.startsWith("audio/") ? "audio" : "video");
        player.controls = true;
        player.src = link.url;
        fig.append(player);
      } else {
        const a = document.createElement("a");
        a.href = link.url;
        a.textContent = m.media.name || this.T.file;
        a.setAttribute("download", m.media.name || "");
        fig.append(a);
      }
    }).catch(() => fig.append(this.T.file_gone));
  }

  async link(media) {
    const cached = links.get(media.id);
    if (cached && Date.now() - cached.at < LINK_TTL_MS) return cached;
    const r = await fetch(`/api/v1/media/${encodeURIComponent(media.id)}/link`,
      { headers: { Authorization: `Bearer ${this.session()}` } });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const body = await r.json();
    const entry = { at: Date.now(), url: body.url, thumb_url: body.thumb_url };
    links.set(media.id, entry);
    return entry;
  }
}
