// The emoji picker beside the composer: a small popup grid of common emoji. It is a dialog that
// keeps focus while open (Tab cycles inside, the arrow keys move through the grid, Escape closes)
// and gives focus back; a pick goes in at the caret, replacing any selected text.
export const EMOJI = [
  "😀", "😂", "😊", "😍", "🥰", "😘", "😉", "😎",
  "🤔", "😅", "😭", "😢", "😡", "😱", "🙄", "😴",
  "👍", "👎", "👏", "🙏", "💪", "👌", "🤝", "👋",
  "❤️", "💔", "🎉", "🔥", "🌹", "🎁", "📦", "🚚",
];
const COLUMNS = 8;

// Put `text` into a textarea where its caret (or selection) was, and the caret after it.
export function insertAt(area, text, start = area.selectionStart, end = area.selectionEnd) {
  const v = area.value;
  const room = area.maxLength > 0 ? area.maxLength - (v.length - (end - start)) : Infinity;
  if (text.length > room) return false; // would pass maxlength: nothing changes
  area.value = v.slice(0, start) + text + v.slice(end);
  const at = start + text.length;
  area.setSelectionRange(at, at);
  area.dispatchEvent(new Event("input", { bubbles: true }));
  return true;
}

export class EmojiPicker {
  constructor(button, pop, area) {
    Object.assign(this, { button, pop, area, caret: [0, 0] });
    for (const e of EMOJI) {
      const b = Object.assign(document.createElement("button"), { type: "button", textContent: e, tabIndex: -1 });
      b.className = "emoji";
      b.addEventListener("click", () => this.pick(e));
      pop.append(b);
    }
    button.addEventListener("click", () => (pop.hidden ? this.open() : this.close(button)));
    pop.addEventListener("keydown", (ev) => this.key(ev));
    document.addEventListener("pointerdown", (ev) => {
      if (!pop.hidden && !pop.contains(ev.target) && !button.contains(ev.target)) this.close(null);
    });
  }

  get items() { return [...this.pop.querySelectorAll("button.emoji")]; }

  open() {
    // Where the caret was: focus moves into the popup, and the pick goes there.
    this.caret = [this.area.selectionStart ?? this.area.value.length, this.area.selectionEnd ?? this.area.value.length];
    this.pop.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.focusAt(0);
  }

  close(focus) {
    this.pop.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    focus?.focus();
  }

  focusAt(i) {
    const items = this.items;
    items.forEach((b, j) => { b.tabIndex = j === i ? 0 : -1; });
    items[i].focus();
  }

  pick(e) {
    this.close(this.area);
    insertAt(this.area, e, ...this.caret);
  }

  key(ev) {
    const items = this.items;
    const i = items.indexOf(document.activeElement);
    const move = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS }[ev.key];
    if (move !== undefined && i >= 0) {
      ev.preventDefault();
      this.focusAt((i + move + items.length) % items.length);
    } else if (ev.key === "Home" || ev.key === "End") {
      ev.preventDefault();
      this.focusAt(ev.key === "Home" ? 0 : items.length - 1);
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation(); // in an embedded chat Escape also minimises; here it only closes the popup
      this.close(this.button);
    } else if (ev.key === "Tab") {
      ev.preventDefault(); // one stop in the grid (the roving item): focus stays in the dialog
    }
  }
}
