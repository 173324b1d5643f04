// The widget's two forms: the rating after a conversation closes, and leaving a message off hours.
import { fmt } from "./chat-i18n.js";

const $ = (id) => document.getElementById(id);
export const LIMITS = { name: 64, contact: 128, message: 4000, comment: 1000 };

// Agents on the next shift read this like any message; router/web/widget.py writes the same shape.
export function leaveMessageText(name, contact, message) {
  return `[留言 / message left]\n姓名 / name: ${name}\n联系 / contact: ${contact}\n\n${message}`;
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

export class Panels {
  // send(frame) -> bool writes to the socket; sendMessage(text) queues a customer message;
  // onRated(cid, how) records that a conversation needs no more asking.
  constructor(T, { send, sendMessage, onRated }) {
    this.T = T;
    this.send = send;
    this.sendMessage = sendMessage;
    this.onRated = onRated;
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
  rated(cid) { this.onRated(cid, "rated"); if (cid === this.cid) this.hideRating(); }
  ratingRefused(f) {
    if (f.code === "already_rated") { this.rated(this.cid); return true; }
    if (!this.cid || $("csat").hidden || !["bad_rating", "not_closed", "too_long", "unknown_conversation"].includes(f.code)) return false;
    $("csat-error").textContent = fmt(this.T.error, { detail: f.detail });
    return true;
  }

  // The bot also sends the notice as a message; the panel repeats it only until that arrives.
  offHours(f, shown) {
    $("offhours-text").textContent = shown(f.text) ? "" : f.text || "";
    const back = Number(f.back_at);
    $("offhours-back").textContent = back > 0 ? fmt(this.T.back_at, { time: new Date(back * 1000).toLocaleString(this.T.lang) }) : "";
    $("offhours").hidden = false;
    $("offhours").scrollIntoView({ block: "nearest" });
  }

  noticeShown(text) {
    if ($("offhours-text").textContent === text) $("offhours-text").textContent = "";
  }

  submitLeave() {
    const fields = { name: $("lm-name").value, contact: $("lm-contact").value, message: $("lm-message").value };
    const problem = checkLeaveMessage(this.T, fields);
    $("lm-error").textContent = problem;
    if (problem) return;
    this.sendMessage(leaveMessageText(fields.name.trim(), fields.contact.trim(), fields.message.trim()));
    $("leave").reset();
    $("offhours").hidden = true;
    return true;
  }
}
