// The agent's own status in the header: online, or away with a reason (busy, a break, training,
// or one the shop configured, ops.away_reasons). Away takes no new chats; open chats stay.
import { $, el, toast } from "./dom.js";
import { addStrings, currentLang, t } from "./i18n.js";
import { send } from "./conn.js";

addStrings({
  en: {
    reason_busy: "busy", reason_break: "on a break", reason_training: "in training",
    away_today: "Away today", away_since: "since {time}", away_reason_none: "no reason",
  },
  zh: {
    reason_busy: "忙碌", reason_break: "小休", reason_training: "培训中",
    away_today: "今日离开", away_since: "自 {time} 起", away_reason_none: "未说明原因",
  },
});

let reasons = [{ id: "busy" }, { id: "break" }, { id: "training" }];
let mine = { status: "online", reason: "" };

// A reason's words: the console's own for the built-in ones, the config's for the shop's.
export function reasonLabel(id) {
  if (!id) return "";
  const r = reasons.find((x) => x.id === id);
  if (r && (r.zh || r.en)) return (currentLang() === "zh" ? r.zh : r.en) || r.en || r.zh;
  if (id === "away") return t("away_reason_none");
  return t(`reason_${id}`) === `reason_${id}` ? id : t(`reason_${id}`);
}

export function drawStatus() {
  const sel = $("status");
  const opts = [el("option", "", t("online"), { value: "online" }), el("option", "", t("away"), { value: "away" })];
  for (const r of reasons) opts.push(el("option", "", `${t("away")} · ${reasonLabel(r.id)}`, { value: `away:${r.id}` }));
  sel.replaceChildren(...opts);
  sel.value = mine.status === "away" ? (mine.reason ? `away:${mine.reason}` : "away") : "online";
}

export function applyStatus(status, reason, list) {
  if (Array.isArray(list) && list.length) reasons = list;
  mine = { status, reason: status === "away" ? reason || "" : "" };
  drawStatus();
}

export function initStatus() {
  $("status").addEventListener("change", () => {
    const [status, reason] = $("status").value.split(":");
    const frame = { type: "status", status };
    if (reason) frame.reason = reason;
    if (!send(frame)) { toast(t("offline"), "error"); drawStatus(); }
  });
}
