// The reports page (supervisors and admins; the server refuses agents): headline figures, five
// charts drawn with the vendored uPlot (static/vendor/uplot) and an agent table, all from one
// GET /api/v1/reports/summary, plus a link to the CSV export of the same range.
import { $, api, duration, el } from "./dom.js";
import { t, tf } from "./i18n.js";

const DAY_S = 86400;
const DEFAULT_DAYS = 7;
const COLORS = { blue: "#0a5cb0", red: "#a8201a", green: "#176b30", purple: "#6d4fc2", amber: "#b45309" };
const plots = new Map(); // figure id -> uPlot, destroyed before a redraw
let last = null; // the summary on screen, redrawn on a language switch or a resize
let filtersLoaded = false;

export function initReports() {
  const today = new Date();
  $("rp-to").value = isoDate(today);
  $("rp-from").value = isoDate(new Date(today.getFullYear(), today.getMonth(), today.getDate() - (DEFAULT_DAYS - 1)));
  $("rp-filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { if (last && !$("tab-reports").hidden) draw(last); }, 200);
  });
  $("lang").addEventListener("click", () => { if (last && !$("tab-reports").hidden) draw(last); });
}

export function showReports() {
  if (!filtersLoaded) loadFilters();
  load();
}

function isoDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

// [from, to) in epoch seconds: local midnight of the first day to local midnight after the last.
function range() {
  const [fy, fm, fd] = $("rp-from").value.split("-").map(Number);
  const [ty, tm, td] = $("rp-to").value.split("-").map(Number);
  return [new Date(fy, fm - 1, fd).getTime() / 1000, new Date(ty, tm - 1, td + 1).getTime() / 1000];
}

async function loadFilters() {
  try {
    const [agents, channels] = await Promise.all([api("/api/v1/agents"), api("/api/v1/channels")]);
    const pools = [...new Set(agents.agents.flatMap((a) => a.pools || []))].sort();
    fill("rp-pool", pools.map((p) => [p, p]));
    fill("rp-agent", agents.agents.map((a) => [a.id, a.name || a.id]));
    fill("rp-channel", channels.channels.map((c) => [c.channel, c.channel]));
    filtersLoaded = true;
  } catch { /* the filters stay at "all"; the next visit asks again */ }
}

function fill(id, options) {
  const sel = $(id);
  const keep = sel.value;
  sel.replaceChildren(el("option", "", t("any"), { value: "", "data-i18n": "any" }),
    ...options.map(([value, label]) => el("option", "", label, { value })));
  sel.value = keep;
}

async function load() {
  const [from, to] = range();
  if (!(from < to)) { status(t("range_bad"), true); return; }
  const q = new URLSearchParams({ from: String(from), to: String(to) });
  for (const [key, id] of [["pool", "rp-pool"], ["agent", "rp-agent"], ["channel", "rp-channel"]]) {
    if ($(id).value) q.set(key, $(id).value);
  }
  $("rp-csv").href = `/api/v1/reports/export.csv?from=${from}&to=${to}`;
  status(t("loading"));
  try {
    const s = await api(`/api/v1/reports/summary?${q}`);
    last = { s, from, to };
    // Open conversations and those closed seconds ago come from Redis; say how many.
    status(!s.conversations ? t("no_data") : s.live ? tf("live_n", { n: s.live }) : "");
    $("rp-body").hidden = false;
    draw(last);
  } catch (err) {
    $("rp-body").hidden = true;
    status(err.status === 403 ? t("forbidden_page") : err.message, true);
  }
}

function status(text, bad = false) {
  $("rp-status").textContent = text;
  $("rp-status").className = bad ? "error" : "muted";
}

const secs = (v) => (v === null || v === undefined ? "—" : duration(v));
const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 1000) / 10}%`);

function draw({ s, from, to }) {
  kpis(s);
  const days = daily(s.by.hour, from, to);
  volume(s.by.hour);
  firstResponse(s);
  breaches(days);
  deflection(days, s);
  csat(days, s);
  agentTable(s.by.agent);
}

function kpis(s) {
  const items = [
    ["k_conversations", String(s.conversations)],
    ["k_messages", `${s.messages_in} / ${s.messages_out}`],
    ["k_frt", `${secs(s.first_response_s.p50)} / ${secs(s.first_response_s.p90)}`],
    ["k_resolution", `${secs(s.resolution_s.p50)} / ${secs(s.resolution_s.p90)}`],
    ["k_sla", String(s.sla_breaches)],
    ["k_deflection", pct(s.deflection_rate)],
    ["k_csat", s.csat.average === null ? "—" : `${s.csat.average} (${s.csat.count})`],
  ];
  $("rp-kpis").replaceChildren(...items.map(([key, value]) => {
    const d = el("div", "kpi", undefined, { "data-kpi": key });
    d.append(el("dt", "", t(key)), el("dd", "", value));
    return d;
  }));
}

// The API's hours summed per local day of the range, every day present (a day without
// conversations is a zero, not a gap). CSAT averages are weighted by their counts.
function daily(byHour, from, to) {
  const days = new Map();
  const start = new Date(from * 1000);
  for (let d = new Date(start.getFullYear(), start.getMonth(), start.getDate()); d.getTime() / 1000 < to;
    d.setDate(d.getDate() + 1)) {
    days.set(d.getTime() / 1000, { sla: 0, bot: 0, resolved: 0, rated: 0, ratingSum: 0 });
  }
  for (const h of byHour) {
    const at = new Date(Number(h.key) * 1000);
    const key = new Date(at.getFullYear(), at.getMonth(), at.getDate()).getTime() / 1000;
    if (!days.has(key)) days.set(key, { sla: 0, bot: 0, resolved: 0, rated: 0, ratingSum: 0 });
    const day = days.get(key);
    day.sla += h.sla_breaches;
    day.bot += h.bot_conversations;
    day.resolved += h.bot_resolved;
    day.rated += h.csat.count;
    day.ratingSum += (h.csat.average || 0) * h.csat.count;
  }
  return [...days.entries()].sort((a, b) => a[0] - b[0]);
}

function plot(id, opts, data, total, summary) {
  const fig = $(id);
  plots.get(id)?.destroy();
  const box = fig.querySelector(".plot");
  box.replaceChildren();
  fig.dataset.total = String(total);
  fig.querySelector(".sum").textContent = summary;
  if (!window.uPlot) { box.append(el("p", "error", "uPlot did not load")); return; }
  const width = Math.max(260, box.clientWidth || fig.clientWidth - 24);
  plots.set(id, new window.uPlot({ width, height: 200, ...opts }, data, box));
}

function bars(color, size = 0.7) {
  return { stroke: color, fill: `${color}cc`, paths: window.uPlot?.paths.bars({ size: [size, 60] }), points: { show: false } };
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const NO_LEGEND = { legend: { show: false } };
const dayAxis = { values: (_u, splits) => splits.map((x) => { const d = new Date(x * 1000); return `${d.getMonth() + 1}/${d.getDate()}`; }) };
const dayScale = (days) => ({ x: { time: true, range: [days[0][0] - DAY_S / 2, days.at(-1)[0] + DAY_S / 2] } });

// A fixed set of categories (hours of the day, response-time buckets) on an x axis of indices.
function categories(labels) {
  const xs = labels.map((_, i) => i);
  return {
    xs,
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
    axes: [{ splits: () => xs.filter((i) => labels.length <= 12 || i % 3 === 0), values: (_u, splits) => splits.map((i) => labels[i] ?? "") }, {}],
  };
}

// Conversations by hour of the day (local time) over the whole range: when the shop is busy.
function volume(byHour) {
  const ys = Array(24).fill(0);
  for (const h of byHour) ys[new Date(Number(h.key) * 1000).getHours()] += h.conversations;
  const total = sum(ys);
  const cat = categories(ys.map((_, i) => `${String(i).padStart(2, "0")}:00`));
  plot("ch-volume", { ...NO_LEGEND, scales: cat.scales, axes: cat.axes,
    series: [{}, { label: t("k_conversations"), ...bars(COLORS.blue) }] }, [cat.xs, ys], total,
  `${total} ${t("conversations")}`);
}

const short = (s) => (s < 60 ? `${s}s` : `${s / 60}m`);

function firstResponse(s) {
  const hist = s.first_response_hist || [];
  const labels = hist.map((b, i) => (b.le === null ? tf("over", { t: short(hist[i - 1]?.le ?? 0) })
    : tf("within", { t: short(b.le) })));
  const ys = hist.map((b) => b.count);
  const total = sum(ys);
  const cat = categories(labels);
  plot("ch-frt", { ...NO_LEGEND, scales: cat.scales, axes: cat.axes,
    series: [{}, { label: t("k_conversations"), ...bars(COLORS.purple, 0.8) }] }, [cat.xs, ys], total,
  `${total} ${t("answered")} · p50 ${secs(s.first_response_s.p50)} · p90 ${secs(s.first_response_s.p90)}`);
}

function breaches(days) {
  const ys = days.map(([, d]) => d.sla);
  const total = sum(ys);
  plot("ch-sla", { ...NO_LEGEND, scales: dayScale(days), axes: [dayAxis, {}],
    series: [{}, { label: t("k_sla"), ...bars(COLORS.red) }] }, [days.map(([x]) => x), ys], total,
  `${total} ${t("breaches_n")}`);
}

// Per day, the bot's conversations with, inside each bar, the part it resolved itself.
function deflection(days, s) {
  const bot = days.map(([, d]) => d.bot);
  const resolved = days.map(([, d]) => d.resolved);
  const r = sum(resolved);
  const h = sum(bot) - r;
  plot("ch-deflection", { legend: { live: false }, scales: dayScale(days), axes: [dayAxis, {}],
    series: [{}, { label: t("bot_total"), ...bars(COLORS.amber, 0.7) },
      { label: t("resolved_n"), ...bars(COLORS.green, 0.4) }] },
  [days.map(([x]) => x), bot, resolved], r,
  `${r} ${t("resolved_n")} · ${h} ${t("handed_n")} · ${pct(s.deflection_rate)}`);
  $("ch-deflection").dataset.handed = String(h);
}

function csat(days, s) {
  const rated = days.filter(([, d]) => d.rated);
  const total = sum(rated.map(([, d]) => d.rated));
  plot("ch-csat", { ...NO_LEGEND, scales: { ...dayScale(days), y: { range: [1, 5] } }, axes: [dayAxis, {}],
    series: [{}, { label: t("csat_avg"), stroke: COLORS.amber, width: 2, spanGaps: true, points: { show: true, size: 7 } }] },
  [rated.map(([x]) => x), rated.map(([, d]) => Math.round((d.ratingSum / d.rated) * 100) / 100)], total,
  s.csat.average === null ? `0 ${t("ratings")}` : `${t("average")} ${s.csat.average} · ${s.csat.count} ${t("ratings")}`);
}

function agentTable(rows) {
  const tbl = el("table", "grid");
  const head = el("tr");
  for (const h of ["agent", "k_conversations", "messages_in", "messages_out", "frt_p50", "frt_p90", "res_p50", "k_sla",
    "csat_avg"]) head.append(el("th", "", t(h), { scope: "col" }));
  tbl.append(head);
  for (const a of [...rows].sort((x, y) => y.conversations - x.conversations)) {
    const tr = el("tr", "", undefined, { "data-agent": a.key });
    for (const v of [a.key || "—", a.conversations, a.messages_in, a.messages_out, secs(a.first_response_s.p50),
      secs(a.first_response_s.p90), secs(a.resolution_s.p50), a.sla_breaches,
      a.csat.average === null ? "—" : `${a.csat.average} (${a.csat.count})`]) tr.append(el("td", "", String(v)));
    tbl.append(tr);
  }
  $("rp-agents").replaceChildren(rows.length ? tbl : el("p", "muted", t("none")));
}
