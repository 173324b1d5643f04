// The widget's two forms: the rating after a conversation closes, and leaving a message off hours.
import { fmt, refusalText } from "./chat-i18n.js";

const $ = (id) => document.getElementById(id);
export const LIMITS = { name: 64, contact: 128, message: 4000, comment: 1000 };

// Agents on the next shift read this like any message, in the customer's words and language;
// router/web/widget.py writes the same shape from the same strings (i18n.json).
export function leaveMessageText(T, name, contact, message) {
  return `${T.leave_record}\n${T.leave_record_name}${name}\n${T.leave_record_contact}${contact}\n\n${message}`;
}

// Returns an error text, or "" when every field is filled and within its limit.
export function checkLeaveMessage(T, fields) {
  const labels = { name: T.leave_name, contact: T.leave_contact, message: T.leave_message };
  for (const key of ["name", "contact", "message"]) {
    const v = fields[key].trim();
    if (!v) return fmt(T.err_required, { field: labels[key] });
    if (v.length > LIMITS[key]) return fmt(T.err_long, { field: labels[key], max: LIMITS[key] });
  }
  return "";
}

// When the shop is back, in the shop's own time zone and in words a customer reads: "今天 09:00",
// "明天 09:00", else the date. The browser may be anywhere; the bot's message says the same.
export function backText(T, ts, timeZone, nowMs = Date.now()) {
  const zone = timeZone ? { timeZone } : {};
  const parts = (d) => Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    ...zone, year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(d).map((p) => [p.type, p.value]));
  const at = parts(new Date(ts * 1000));
  const day = (p) => `${p.year}-${p.month}-${p.day}`;
  const time = `${at.hour}:${at.minute}`;
  if (day(at) === day(parts(new Date(nowMs)))) return fmt(T.back_today, { time });
  if (day(at) === day(parts(new Date(nowMs + 86400000)))) return fmt(T.back_tomorrow, { time });
  return fmt(T.back_date, { month: at.month, day: at.day, time });
}

export class Panels {
  // send(frame) -> bool writes to the socket; sendMessage(text) queues a customer message;
  // onRated(cid, how) records that a conversation needs no more asking; confirm(key, text) puts a
  // confirmation in the history, so every form says what it did.
  constructor(T, { send, sendMessage, onRated, confirm, onLeft }) {
    this.onLeft = onLeft;
    this.T = T;
    this.send = send;
    this.sendMessage = sendMessage;
    this.onRated = onRated;
    this.confirm = confirm;
    this.cid = null;
    this.buildStars();
    $("csat-form").addEventListener("submit", (e) => { e.preventDefault(); this.submitRating(); });
    $("csat-skip").addEventListener("click", () => { this.onRated(this.cid, "skipped"); this.hideRating(); });
    $("leave").addEventListener("submit", (e) => { e.preventDefault(); this.submitLeave(); });
  }

  // Native radios: arrow keys move between them, Tab leaves the group; the labels draw the stars.
  buildStars() {
    const box = $("stars");
    for (let n = 1; n <= 5; n++) {
      const input = Object.assign(document.createElement("input"), { type: "radio", name: "rating", value: String(n), id: `star-${n}` });
      input.className = "sr";
      const label = document.createElement("label");
      label.htmlFor = input.id;
      const star = Object.assign(document.createElement("span"), { textContent: "★" });
      star.setAttribute("aria-hidden", "true");
      const text = Object.assign(document.createElement("span"), { className: "sr", textContent: fmt(this.T.csat_star, { n }) });
      label.append(star, text);
      input.addEventListener("change", () => this.light(n));
      box.append(input, label);
    }
  }

  light(n) {
    document.querySelectorAll("#stars label").forEach((l, i) => l.classList.toggle("lit", i < n));
    if (n) $("csat-error").textContent = ""; // "please pick a rating" is answered
  }

  askRating(cid) {
    if (this.cid === cid && !$("csat").hidden) return;
    this.cid = cid;
    $("csat-form").reset();
    this.light(0);
    $("csat-error").textContent = "";
    $("csat").hidden = false;
    $("csat").scrollIntoView({ block: "nearest" });
  }

  hideRating() { $("csat").hidden = true; this.cid = null; }

  submitRating() {
    const picked = document.querySelector('#stars input[name="rating"]:checked');
    if (!picked) { $("csat-error").textContent = this.T.csat_pick; $("star-1").focus(); return; }
    const comment = $("csat-comment").value.trim().slice(0, LIMITS.comment);
    if (!this.send({ type: "csat", conversation_id: this.cid, rating: Number(picked.value), comment })) {
      $("csat-error").textContent = this.T.offline;
    }
  }

  // Server answers: csat_recorded, or an error frame whose code starts a rating-specific reason.
  rated(cid) {
    this.onRated(cid, "rated");
    if (cid === this.cid) this.hideRating();
    this.confirm(`rated:${cid}`, this.T.csat_done);
  }
  ratingRefused(f) {
    if (f.code === "already_rated") { this.rated(this.cid); return true; }
    if (!this.cid || $("csat").hidden || !["bad_rating", "not_closed", "too_long", "unknown_conversation"].includes(f.code)) return false;
    $("csat-error").textContent = fmt(this.T.error, { detail: refusalText(this.T, f, f.detail) });
    return true;
  }

  // The bot also sends the notice as a message; the panel repeats it only until that arrives.
  offHours(f, shown) {
    $("offhours-title").textContent = this.T.offhours_title;
    $("offhours-text").textContent = shown(f.text) ? "" : f.text || "";
    const back = Number(f.back_at);
    $("offhours-back").textContent = back > 0 ? fmt(this.T.back_at, { time: backText(this.T, back, f.timezone) }) : "";
    this.showLeave();
  }

  // Nobody online, in hours or (offHours) not: the same form, offered with what is true now.
  nobodyOnline(offHours = false) {
    if (!$("offhours").hidden) return;
    $("offhours-title").textContent = offHours ? this.T.offhours_title : this.T.away_title;
    $("offhours-text").textContent = this.T.away_text;
    $("offhours-back").textContent = "";
    this.showLeave();
  }

  showLeave() {
    $("offhours").hidden = false;
    $("offhours").scrollIntoView({ block: "nearest" });
  }

  // An agent took the chat: "we are closed" and the form are no longer true.
  hideLeave() { $("offhours").hidden = true; $("lm-error").textContent = ""; }

  noticeShown(text) {
    if ($("offhours-text").textContent === text) $("offhours-text").textContent = "";
  }

  submitLeave() {
    const fields = { name: $("lm-name").value, contact: $("lm-contact").value, message: $("lm-message").value };
    const problem = checkLeaveMessage(this.T, fields);
    $("lm-error").textContent = problem;
    if (problem) return;
    const sent = this.sendMessage(leaveMessageText(this.T, fields.name.trim(), fields.contact.trim(), fields.message.trim()),
                                  fields.name.trim());
    $("leave").reset();
    $("offhours").hidden = true;
    this.confirm(`left:${sent}`, this.T.leave_sent);
    this.onLeft();
    return true;
  }
}
