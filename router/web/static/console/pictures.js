// Agents' profile pictures and the welcome card's logo: drawing an agent's face (their picture,
// else their initials) wherever the console names them, and the forms that upload and remove
// both (PUT / DELETE /api/v1/agents/{id}/avatar, /api/v1/webchat/logo). The server checks type,
// size and role; a refusal's reason is shown as it says it.
import { $, api, el, toast } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";
import { refusal, refusalText, statusText } from "./refusals.js";
import { state } from "./state.js";

addStrings({
  en: {
    my_picture: "Profile picture", picture_pick: "Choose a picture (PNG, JPEG or WebP, up to 2 MB)",
    picture_saved: "Picture saved.", picture_removed: "Picture removed.", picture_remove: "Remove picture",
    picture_for: "Picture for {name}", picture_remove_for: "Remove picture of {name}", picture_none: "No picture: your initials are shown.",
    logo_title: "Welcome card logo", logo_pick: "Upload a logo (PNG, JPEG or WebP, up to 512 KB)",
    logo_saved: "Logo saved: the chat page shows it now.", logo_removed: "Uploaded logo removed.",
    logo_remove: "Remove uploaded logo", logo_from_config: "From the config: {logo}", logo_none: "No logo.",
    logo_preview: "The welcome card's logo",
  },
  zh: {
    my_picture: "头像", picture_pick: "选择图片（PNG、JPEG 或 WebP，不超过 2 MB）",
    picture_saved: "头像已保存。", picture_removed: "头像已删除。", picture_remove: "删除头像",
    picture_for: "{name} 的头像", picture_remove_for: "删除 {name} 的头像", picture_none: "未设置头像：显示姓名首字。",
    logo_title: "欢迎卡片标志", logo_pick: "上传标志（PNG、JPEG 或 WebP，不超过 512 KB）",
    logo_saved: "标志已保存，聊天页面现在显示它。", logo_removed: "已删除上传的标志。",
    logo_remove: "删除上传的标志", logo_from_config: "配置文件中的：{logo}", logo_none: "暂无标志。",
    logo_preview: "欢迎卡片的标志",
  },
});

const OURS = /^\/api\/v1\/media\/md_[0-9a-f]{32}$/;

export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  if (/^[\p{Script=Han}]/u.test(words[0])) return [...words[0]][0];
  return words.slice(0, 2).map((w) => [...w][0].toUpperCase()).join("");
}

// The agent by id, as the console knows them (state.agents, or ourselves).
export function agentById(id) {
  if (!id) return null;
  return state.agents.find((a) => a.id === id) || (state.me?.id === id ? state.me : null) || { id, name: id };
}

// A face beside a name: the picture, or the initials when there is none or it fails to load. The
// name is written next to it, so the face is decoration for a screen reader (aria-hidden).
export function face(agent, cls = "avatar small") {
  const name = agent?.name || agent?.id || "";
  const fallback = () => el("span", `${cls} initials`, initials(name), { "aria-hidden": "true" });
  if (!OURS.test(agent?.avatar || "")) return fallback();
  const img = el("img", cls, undefined, { src: agent.avatar, alt: "", "aria-hidden": "true", "data-agent": agent.id });
  img.addEventListener("error", () => img.replaceWith(fallback()), { once: true });
  return img;
}

async function send(path, file) {
  const form = new FormData();
  form.append("file", file, file.name || "picture");
  // The browser's Origin header is what the server's CSRF check reads (router/web/csrf.py).
  const r = await fetch(path, { method: "PUT", body: form, credentials: "same-origin" });
  const body = r.headers.get("Content-Type")?.includes("json") ? await r.json() : null;
  if (!r.ok) throw Object.assign(new Error(refusalText(body, statusText(r.status))), { body });
  return body;
}

// Take a new picture for agent `id`, or remove theirs; `done(url|null)` updates the screen.
async function setPicture(id, file, done) {
  try {
    const body = await send(`/api/v1/agents/${encodeURIComponent(id)}/avatar`, file);
    toast(t("picture_saved"));
    done(body.avatar);
  } catch (err) { toast(err.message, "error"); }
}

async function removePicture(id, done) {
  try {
    await api(`/api/v1/agents/${encodeURIComponent(id)}/avatar`, { method: "DELETE" });
    toast(t("picture_removed"));
    done(null);
  } catch (err) { toast(refusal(err), "error"); }
}

function remember(id, url) {
  for (const a of state.agents) if (a.id === id) a.avatar = url;
  if (state.me?.id === id) state.me.avatar = url;
}

// A file input and a remove button for one agent (the admin's Team tab row, or My account).
export function pictureControls(a, after, labels = { pick: tf("picture_for", { name: a.name || a.id }),
  remove: tf("picture_remove_for", { name: a.name || a.id }) }) {
  const wrap = el("span", "picture-controls");
  const input = el("input", "picture-input", undefined, { type: "file", accept: "image/png,image/jpeg,image/webp",
    "aria-label": labels.pick });
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (file) setPicture(a.id, file, (url) => { remember(a.id, url); after(url); });
    input.value = "";
  });
  wrap.append(input);
  if (a.avatar) {
    const drop = el("button", "small secondary", t("picture_remove"), { type: "button", "aria-label": labels.remove });
    drop.addEventListener("click", () => removePicture(a.id, (url) => { remember(a.id, url); after(url); }));
    wrap.append(" ", drop);
  }
  return wrap;
}

// My account: the picture I have, and the controls to change it; `changed` redraws what else
// shows it (the Team list).
export async function loadMyPicture(changed = () => {}) {
  const box = $("account-picture");
  if (!box || !state.me) return;
  try {
    const listed = (await api("/api/v1/agents")).agents || [];
    state.agents = listed;
  } catch { /* drawn from what the console knows */ }
  const me = { ...state.me, ...(state.agents.find((a) => a.id === state.me.id) || {}) };
  state.me.avatar = me.avatar || null;
  const redraw = () => { loadMyPicture(changed); changed(); };
  box.replaceChildren(face(me, "avatar"), " ",
    me.avatar ? "" : el("span", "muted", t("picture_none")), " ",
    pictureControls(me, redraw, { pick: t("picture_pick"), remove: t("picture_remove") }));
}

// The set-up's welcome card logo (admins): the uploaded one wins over the config's.
export async function loadLogo() {
  const box = $("setup-logo");
  if (!box) return;
  let info;
  try { info = await api("/api/v1/webchat/logo/uploaded"); } catch { box.hidden = true; return; }
  box.hidden = false;
  const shown = info.logo || info.configured;
  const preview = $("setup-logo-preview");
  preview.replaceChildren();
  if (info.logo) preview.append(el("img", "logo-preview", undefined, { src: info.logo, alt: t("logo_preview") }));
  else preview.append(el("span", "muted", shown ? tf("logo_from_config", { logo: shown }) : t("logo_none")));
  $("setup-logo-remove").hidden = !info.logo;
}

export function initLogo() {
  const input = $("setup-logo-file");
  if (!input) return;
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    try {
      await send("/api/v1/webchat/logo", file);
      toast(t("logo_saved"));
    } catch (err) { toast(err.message, "error"); }
    await loadLogo();
  });
  $("setup-logo-remove").addEventListener("click", async () => {
    try {
      await api("/api/v1/webchat/logo", { method: "DELETE" });
      toast(t("logo_removed"));
    } catch (err) { toast(refusal(err), "error"); }
    await loadLogo();
  });
}
