// Bulk close: tick chats in the queue (or "select all"), close them with one confirmation. The
// server closes each once and answers per chat (POST /api/v1/conversations/bulk-close); the chats
// leave the list by their `closed` frames as with a single close; refused ones stay ticked.
import { $, api, el, toast } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";
import { customerName, state } from "./state.js";

addStrings({
  en: {
    select_all: "Select all", select_conv: "Select {name}", bulk_close: "Close selected ({n})",
    bulk_close_h: "Close {n} conversations?", bulk_close_ok: "Close them",
    bulk_closed: "Closed {n}.", bulk_failed: "{n} not closed: {why}",
    err_already_closed: "already closed", err_not_assigned_to_you: "not yours", err_unknown_conversation: "unknown",
  },
  zh: {
    select_all: "全选", select_conv: "选择 {name}", bulk_close: "关闭所选（{n}）",
    bulk_close_h: "关闭 {n} 个会话？", bulk_close_ok: "全部关闭",
    bulk_closed: "已关闭 {n} 个。", bulk_failed: "{n} 个未关闭：{why}",
    err_already_closed: "已关闭", err_not_assigned_to_you: "不是你的会话", err_unknown_conversation: "不存在",
  },
});

const picked = new Set();

export const isPicked = (id) => picked.has(id);

// The checkbox of one queue row; it sits after the row's button, so Tab reaches it from the row.
export function pickBox(li, conv, tabbable) {
  let box = li.querySelector("input.pick");
  if (!box) {
    box = el("input", "pick", undefined, { type: "checkbox", "data-id": conv.id });
    box.addEventListener("change", () => {
      if (box.checked) picked.add(conv.id); else picked.delete(conv.id);
      drawBar();
    });
    li.append(box);
  }
  box.setAttribute("aria-label", tf("select_conv", { name: customerName(conv, t("visitor")) }));
  box.checked = picked.has(conv.id);
  box.tabIndex = tabbable ? 0 : -1;
}

// Drop chats that left the list; draw the bar's counts. Called after every queue render.
export function drawBar() {
  for (const id of [...picked]) if (!state.convs.has(id)) picked.delete(id);
  const n = picked.size;
  const total = state.convs.size;
  const all = $("select-all");
  all.checked = total > 0 && n === total;
  all.indeterminate = n > 0 && n < total;
  all.disabled = total === 0;
  const btn = $("bulk-close-btn");
  btn.textContent = tf("bulk_close", { n });
  btn.disabled = n === 0;
}

function errorWords(code) {
  const key = `err_${code}`;
  return t(key) === key ? code : t(key);
}

async function closePicked() {
  const ids = [...picked];
  $("bulk-close-dlg").close();
  let res;
  try {
    res = await api("/api/v1/conversations/bulk-close", { method: "POST", body: { ids, resolution: $("bulk-resolution").value } });
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  const failed = res.results.filter((r) => !r.ok && r.error !== "already_closed");
  for (const r of res.results) if (r.ok || r.error === "already_closed") picked.delete(r.id);
  drawBar();
  toast(tf("bulk_closed", { n: res.closed }));
  if (failed.length) {
    const why = [...new Set(failed.map((r) => errorWords(r.error)))].join(", ");
    toast(tf("bulk_failed", { n: failed.length, why }), "error");
  }
}

export function initBulk() {
  // The same resolutions as a single close (actions.js filled that list first).
  for (const o of $("close-resolution").options) $("bulk-resolution").append(o.cloneNode(true));
  $("select-all").addEventListener("change", () => {
    if ($("select-all").checked) for (const id of state.convs.keys()) picked.add(id);
    else picked.clear();
    for (const box of document.querySelectorAll("#convs input.pick")) box.checked = picked.has(box.dataset.id);
    drawBar();
  });
  $("bulk-close-btn").addEventListener("click", () => {
    if (!picked.size) return;
    $("bulk-close-h").textContent = tf("bulk_close_h", { n: picked.size });
    const names = [...picked].map((id) => state.convs.get(id)).filter(Boolean).map((c) => customerName(c.conv, t("visitor")));
    // The first dozen names, so the agent sees what they are about to close; the count says the rest.
    $("bulk-close-list").textContent = names.slice(0, 12).join(t("list_sep")) + (names.length > 12 ? " …" : "");
    $("bulk-close-dlg").showModal();
    $("bulk-close-ok").focus();
  });
  $("bulk-close-form").addEventListener("submit", (e) => { e.preventDefault(); closePicked(); });
  drawBar();
}
