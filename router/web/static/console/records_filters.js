// Filters of the records views (issue 19): pool, channel, a routing tag (a rule's `tags:`), and for
// Recent how many days back a close counts. The server applies them to live and archived rows
// alike; they ride along with every page's request and are kept per agent across reloads
// (place.js), with the view they were chosen in.
import { $, api, el } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";
import { recordsPlace, rememberRecords } from "./place.js";

addStrings({
  en: { v_recent: "Recent", rec_filters: "Filters", rf_pool: "Pool", rf_channel: "Channel", rf_tag: "Tag",
        rf_days: "Closed within", rf_any_pool: "All pools", rf_any_channel: "All channels", rf_tag_ph: "e.g. vip",
        rf_days_n: "{n} days", rf_day_1: "1 day", rf_clear: "Clear filters", rf_bad_tag: "A tag is one word: letters, digits, _ . -" },
  zh: { v_recent: "最近结束", rec_filters: "筛选", rf_pool: "队列", rf_channel: "渠道", rf_tag: "标签",
        rf_days: "结束于", rf_any_pool: "全部队列", rf_any_channel: "全部渠道", rf_tag_ph: "如 vip",
        rf_days_n: "{n} 天内", rf_day_1: "1 天内", rf_clear: "清除筛选", rf_bad_tag: "标签是一个词：字母、数字、_ . -" },
});

const DAYS = [1, 7, 30, 90];
const TAG = /^[\p{L}\p{N}_.-]{1,64}$/u;
export const filters = { pool: "", channel: "", tag: "", days: 7 };
let changed = () => {};

// A label beside (not around) its control: wrapped, a select's options would join its name.
function labelled(key, control) {
  const box = el("div", "rec-filter");
  box.append(el("label", "", t(key), { for: control.id, "data-i18n": key }), control);
  return box;
}

function option(value, key, text) {
  const o = el("option", "", text ?? t(key), { value });
  if (key) o.dataset.i18n = key;
  return o;
}

function dayOptions(select) {
  select.replaceChildren(...DAYS.map((n) => el("option", "", n === 1 ? t("rf_day_1") : tf("rf_days_n", { n }), { value: String(n) })));
  select.value = String(filters.days);
}

// The pools any agent works in (GET /api/v1/agents) and the configured channels: the choices an
// agent or supervisor can pick from; what is not offered cannot be mistyped.
async function loadChoices() {
  const [agents, channels] = await Promise.all([api("/api/v1/agents").catch(() => ({ agents: [] })),
    api("/api/v1/channels").catch(() => ({ channels: [] }))]);
  const pools = [...new Set((agents.agents || []).flatMap((a) => a.pools || []))].sort();
  const pool = $("rec-pool");
  pool.replaceChildren(option("", "rf_any_pool"), ...pools.map((p) => option(p, null, p)));
  if (filters.pool && !pools.includes(filters.pool)) pool.append(option(filters.pool, null, filters.pool));
  pool.value = filters.pool;
  const chans = (channels.channels || []).map((c) => c.channel).sort();
  const channel = $("rec-channel");
  channel.replaceChildren(option("", "rf_any_channel"), ...chans.map((c) => option(c, null, c)));
  if (filters.channel && !chans.includes(filters.channel)) channel.append(option(filters.channel, null, filters.channel));
  channel.value = filters.channel;
}

// The saved view and filters (null: none saved yet).
export function savedView() {
  const saved = recordsPlace();
  if (!saved) return null;
  for (const k of ["pool", "channel", "tag"]) if (typeof saved[k] === "string") filters[k] = saved[k];
  if (DAYS.includes(saved.days)) filters.days = saved.days;
  return typeof saved.view === "string" ? saved.view : null;
}

export function remember(view) {
  rememberRecords({ view, ...filters });
}

// `onChange` runs after any filter changed: the list starts again from its first page.
export function initFilters(onChange) {
  changed = onChange;
  const form = el("form", "rec-filters", undefined, { id: "rec-filters", "aria-label": t("rec_filters"), "data-i18n-label": "rec_filters" });
  const pool = el("select", "", undefined, { id: "rec-pool" });
  const channel = el("select", "", undefined, { id: "rec-channel" });
  const tag = el("input", "", undefined, { id: "rec-tag", type: "text", maxlength: "64", placeholder: t("rf_tag_ph"),
    "data-i18n-ph": "rf_tag_ph", autocomplete: "off", spellcheck: "false" });
  const days = el("select", "", undefined, { id: "rec-days" });
  const daysLabel = labelled("rf_days", days);
  daysLabel.id = "rec-days-label";
  daysLabel.hidden = true;
  const clear = el("button", "small secondary", t("rf_clear"), { type: "button", id: "rec-clear", "data-i18n": "rf_clear", hidden: "" });
  form.append(labelled("rf_pool", pool), labelled("rf_channel", channel), labelled("rf_tag", tag), daysLabel, clear);
  $("rec-views").after(form);
  pool.addEventListener("change", () => set("pool", pool.value));
  channel.addEventListener("change", () => set("channel", channel.value));
  days.addEventListener("change", () => set("days", Number(days.value)));
  // A tag applies on Enter or when the box is left, not on every keystroke.
  const applyTag = () => {
    const value = tag.value.trim();
    if (value && !TAG.test(value)) { tag.setAttribute("aria-invalid", "true"); tag.title = t("rf_bad_tag"); return; }
    tag.removeAttribute("aria-invalid");
    tag.title = "";
    if (value !== filters.tag) set("tag", value);
  };
  tag.addEventListener("change", applyTag);
  form.addEventListener("submit", (e) => { e.preventDefault(); applyTag(); });
  clear.addEventListener("click", () => {
    Object.assign(filters, { pool: "", channel: "", tag: "" });
    showFilters();
    changed();
  });
}

function set(key, value) {
  filters[key] = value;
  showFilters();
  changed();
}

// The controls as the filters are, for `view` (the days only on Recent).
export function showFilters(view) {
  if (view !== undefined) $("rec-days-label").hidden = view !== "recent";
  $("rec-tag").value = filters.tag;
  dayOptions($("rec-days"));
  $("rec-clear").hidden = !(filters.pool || filters.channel || filters.tag);
  if (!$("rec-pool").options.length) loadChoices(); // once; the language switch redraws the words only
  else { $("rec-pool").value = filters.pool; $("rec-channel").value = filters.channel; }
}

// The filters as the API's query string, for `view`.
export function filterQuery(view) {
  const q = new URLSearchParams();
  for (const k of ["pool", "channel", "tag"]) if (filters[k]) q.set(k, filters[k]);
  if (view === "recent") q.set("days", String(filters.days));
  const s = q.toString();
  return s ? `&${s}` : "";
}
