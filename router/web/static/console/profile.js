// The customer in the side panel: who they are (name, avatar, masked phone, segment, tags,
// attributes), the product on their page, an edit form (PATCH /api/v1/customers/{id}), and
// merging another customer in or undoing it. The server checks every field and every role.
import { api, el, isAvatar } from "./dom.js";
import { addStrings, t } from "./i18n.js";
import { changed, state } from "./state.js";

addStrings({
  en: { phone: "Phone", attributes: "Attributes", edit_profile: "Edit profile", profile_saved: "Profile saved.",
        tags_hint: "separated by commas",
        attrs_hint: "one per line: name: value", product: "Looking at", price: "Price", open_product: "Open the page",
        merge_title: "Same person as another customer?", merge_id: "Other customer's id", merge_btn: "Merge into this customer",
        merged_ok: "Merged: their conversations are in this history.", merged_in: "Merged in",
        unmerge: "Undo merge", unmerged_ok: "Merge undone.", channels: "Channels", avatar: "Avatar" },
  zh: { phone: "电话", attributes: "属性", edit_profile: "编辑资料", profile_saved: "资料已保存。",
        tags_hint: "用逗号分隔",
        attrs_hint: "每行一项：名称: 值", product: "正在看", price: "价格", open_product: "打开商品页",
        merge_title: "和另一位客户是同一个人？", merge_id: "另一位客户的编号", merge_btn: "合并到当前客户",
        merged_ok: "已合并：对方的会话已并入历史。", merged_in: "已并入",
        unmerge: "撤销合并", unmerged_ok: "已撤销合并。", channels: "渠道", avatar: "头像" },
});

const SEGMENTS = ["new", "returning", "vip"];
let flash = null; // what the last action said, shown again after the panel is drawn anew

function say(status, cust, cls, text) {
  status.className = cls;
  status.textContent = text;
  flash = { id: cust.id, cls, text };
}
const safeImage = (url) => typeof url === "string" && /^https:\/\//.test(url);

function fact(dl, label, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
  dl.append(el("dt", "", label), el("dd", "", Array.isArray(value) ? value.join(", ") : value));
}

export function segmentLabel(seg) { return t(`seg_${seg}`) === `seg_${seg}` ? seg : t(`seg_${seg}`); }

// Every conversation of this customer on screen shows the new profile (the header's VIP badge).
function spread(customer) {
  for (const c of state.convs.values()) {
    if (c.conv.customer_id === customer.id) { c.conv.customer = { ...c.conv.customer, ...customer }; changed("conv", c.conv.id); }
  }
}

function productCard(p) {
  const card = el("div", "product-card", undefined, { role: "group", "aria-label": t("product") });
  if (safeImage(p.image)) card.append(el("img", "", undefined, { src: p.image, alt: "", loading: "lazy" }));
  const text = el("div");
  text.append(el("div", "muted", t("product")), el("strong", "", p.title));
  if (p.price !== undefined && p.price !== null) text.append(el("div", "money", `¥${Number(p.price).toFixed(2)}`));
  if (typeof p.url === "string" && /^https?:\/\//.test(p.url)) {
    text.append(el("a", "", t("open_product"), { href: p.url, target: "_blank", rel: "noopener noreferrer" }));
  }
  text.append(el("div", "muted small", p.id));
  card.append(text);
  return card;
}

function parseAttrs(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf(":") >= 0 ? line.indexOf(":") : line.indexOf("：");
    if (at <= 0) continue;
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function editForm(cust, status, done) {
  const form = el("form", "profile-form", undefined, { hidden: "" });
  const field = (key, input, hint) => {
    const id = `pf-${key}`;
    input.id = id;
    const label = el("label", "", t(key), { for: id });
    form.append(label, input);
    if (hint) form.append(el("small", "muted", hint));
    return input;
  };
  const name = field("name", el("input", "", undefined, { value: cust.name || "", maxlength: "64", autocomplete: "off" }));
  const phone = field("phone", el("input", "", undefined, { placeholder: cust.phone || "", maxlength: "32", inputmode: "tel" }));
  const seg = field("segment", el("select"));
  for (const s of SEGMENTS) seg.append(el("option", "", segmentLabel(s), { value: s }));
  seg.value = cust.segment || "new";
  const tags = field("tags", el("input", "", undefined, { value: (cust.tags || []).join(", ") }), t("tags_hint"));
  const attrs = field("attributes", el("textarea", "", undefined, { rows: "3" }), t("attrs_hint"));
  attrs.value = Object.entries(cust.attributes || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  const row = el("div", "row");
  const save = el("button", "", t("save"), { type: "submit" });
  const cancel = el("button", "secondary", t("cancel"), { type: "button" });
  row.append(save, cancel);
  form.append(row);
  cancel.addEventListener("click", () => { form.hidden = true; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), segment: seg.value,
                   tags: tags.value.split(/[,，\s]+/).filter(Boolean), attributes: parseAttrs(attrs.value) };
    if (phone.value.trim()) body.phone = phone.value.trim();
    save.disabled = true;
    try {
      const answer = await api(`/api/v1/customers/${encodeURIComponent(cust.id)}`, { method: "PATCH", body });
      form.hidden = true;
      say(status, cust, "ok", t("profile_saved"));
      spread(answer.customer);
      done(answer.customer);
    } catch (err) {
      say(status, cust, "error", err.message);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function mergeBox(cust, status, done) {
  const box = el("details", "merge");
  box.append(el("summary", "", t("merge_title")));
  const form = el("form", "row");
  const input = el("input", "", undefined, { id: "merge-other", "aria-label": t("merge_id"), placeholder: t("merge_id"), maxlength: "64" });
  form.append(input, el("button", "secondary", t("merge_btn"), { type: "submit" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!input.value.trim()) return;
    try {
      const answer = await api(`/api/v1/customers/${encodeURIComponent(cust.id)}/merge`,
        { method: "POST", body: { other: input.value.trim() } });
      say(status, cust, "ok", t("merged_ok"));
      input.value = "";
      spread(answer.customer);
      done(answer.customer);
    } catch (err) {
      say(status, cust, "error", err.message);
    }
  });
  box.append(form);
  for (const other of cust.merged || []) {
    const line = el("div", "row");
    const undo = el("button", "small secondary", t("unmerge"), { type: "button" });
    undo.addEventListener("click", async () => {
      try {
        await api(`/api/v1/customers/${encodeURIComponent(other)}/unmerge`, { method: "POST" });
        say(status, cust, "ok", t("unmerged_ok"));
        done(null);
      } catch (err) {
        say(status, cust, "error", err.message);
      }
    });
    line.append(el("span", "muted", `${t("merged_in")} ${other}`), undo);
    box.append(line);
  }
  return box;
}

// `reload()` fetches the side panel again after a change (the history grows after a merge).
const drawing = new WeakMap(); // box -> the latest render asked for; an older one that ends later is dropped

export async function renderProfile(box, cust, reload) {
  const ticket = {};
  drawing.set(box, ticket);
  if (!cust) { box.replaceChildren(); return; }
  let full = cust;
  try { full = (await api(`/api/v1/customers/${encodeURIComponent(cust.id)}`)).customer; } catch { /* shown as read */ }
  if (drawing.get(box) !== ticket) return; // the panel was asked for again meanwhile
  box.replaceChildren();
  const head = el("div", "cust-head");
  if (isAvatar(full.avatar)) head.append(el("img", "avatar", undefined, { src: full.avatar, alt: t("avatar") }));
  head.append(el("strong", "cust-name", full.name || full.id));
  if (full.segment === "vip") head.append(el("span", "badge vip", t("vip")));
  box.append(head);
  const dl = el("dl", "facts");
  fact(dl, t("phone"), full.phone);
  fact(dl, t("segment"), full.segment && segmentLabel(full.segment));
  fact(dl, t("tags"), full.tags);
  for (const [k, v] of Object.entries(full.attributes || {})) fact(dl, k, v);
  fact(dl, t("channels"), [...new Set((full.identities || []).filter((i) => !i.includes("::"))
    .map((i) => i.split(":").slice(0, 2).join(":")))]);
  box.append(dl);
  if (full.product) box.append(productCard(full.product));
  const status = el("p", "", "", { role: "status", id: "profile-status" });
  if (flash?.id === full.id) { status.className = flash.cls; status.textContent = flash.text; flash = null; }
  const edit = el("button", "small secondary", t("edit_profile"), { type: "button", id: "edit-profile" });
  const form = editForm(full, status, () => reload());
  edit.addEventListener("click", () => { form.hidden = !form.hidden; if (!form.hidden) form.querySelector("input").focus(); });
  box.append(edit, form, status, mergeBox(full, status, () => reload()));
}
