// The supervisor's floor view: pools, agents' load against cap, SLA breaches, every open
// conversation (with take-over) and the discount approvals waiting for an answer.
import { send } from "./conn.js";
import { $, api, clock, duration, el, now, pressHold, stale, toast } from "./dom.js";
import { t } from "./i18n.js";
import { face } from "./pictures.js";
import { customerName, state } from "./state.js";
import { reasonLabel } from "./status.js";

const REFRESH_MS = 5000;

// Away with its reason and how long so far (status.js words the reason).
function agentStatus(a) {
  const span = el("span", `st st-${a.status}`, t(`st_${a.status}`));
  if (a.status === "away" && a.away_reason) span.append(` · ${reasonLabel(a.away_reason)}`);
  if (a.status === "away" && a.status_since) span.append(` · ${duration(now() - a.status_since)}`);
  return span;
}
let team = []; // the overview's agents, kept current between refreshes by `agent_status` frames

function drawAgents() {
  $("sv-agents").replaceChildren(table(["agent", "status", "load"],
    team.map((a) => [named(a), agentStatus(a), loadBar(a.load, a.cap)])));
}

// A teammate's status changed (status.lua pushes it to every supervisor's socket): shown at once,
// not at the next refresh.
export function agentStatusChanged(f) {
  const a = team.find((x) => x.id === f.agent);
  if (!a) return;
  Object.assign(a, { status: f.status, away_reason: f.reason || "", status_since: f.since });
  if (!$("tab-supervisor").hidden) drawAgents();
}
const approvals = new Map(); // id -> approval
const notes = new Map(); // approval id -> the note being typed
let timer = null;

function table(headers, rows) {
  const tbl = el("table", "grid");
  const head = el("tr");
  for (const h of headers) head.append(el("th", "", t(h), { scope: "col" }));
  tbl.append(head);
  for (const cells of rows) {
    const tr = el("tr");
    for (const c of cells) tr.append(c instanceof Node ? wrap(c) : el("td", "", c));
    tbl.append(tr);
  }
  return tbl;
}

// An agent's face and name, as the Team tab and the thread show them.
function named(a) {
  const span = el("span", "named");
  span.append(face(a), " ", a.name || a.id);
  return span;
}

function wrap(node) {
  const td = el("td");
  td.append(node);
  return td;
}

function loadBar(load, cap) {
  const m = el("meter", "", undefined, { min: "0", max: String(Math.max(cap, 1)), value: String(load),
    high: String(Math.max(cap - 1, 0.5)), "aria-label": `${load}/${cap}` });
  const span = el("span", "load");
  span.append(m, ` ${load}/${cap}`);
  return span;
}

// `then` runs after the transfer is sent (the records reader opens the chat in the inbox).
export function takeOverButton(cid, then = () => {}) {
  const b = el("button", "small", t("take_over"), { type: "button" });
  b.addEventListener("click", () => {
    if (send({ type: "transfer", conversation_id: cid, to_agent: state.me.id, note: "" })) {
      toast(t("taken"));
      then();
    }
  });
  return b;
}

function overdue(sla) {
  const due = [sla.first_response_due, sla.resolution_due].filter((d) => typeof d === "number" && d < now());
  return `${sla.profile || ""} ${due.length ? `+${duration(now() - Math.min(...due))}` : ""}`.trim();
}

// The take-over buttons are rebuilt at each refresh: one held back while a supervisor presses
// (dom.js pressHold) so the press is not lost; it runs after the click.
let held = null;

async function refresh() {
  if ($("tab-supervisor").hidden) return;
  const [overview, open] = await Promise.allSettled([api("/api/v1/supervisor/overview"),
    api("/api/v1/conversations?state=assigned&limit=100")]);
  if (held?.()) return;
  let agents = [];
  if (overview.status === "fulfilled") {
    const o = overview.value;
    agents = o.agents || [];
    $("sv-overview").hidden = false;
    $("sv-pools").replaceChildren(table(["pool", "queued", "longest_wait"],
      (o.pools || []).map((p) => [p.id, String(p.queued), duration(p.longest_wait_s || 0)])));
    team = agents;
    drawAgents();
    const breaches = o.breaches || [];
    $("sv-breaches").replaceChildren(breaches.length ? table(["agent", "pool", "sla_breached", ""],
      breaches.map((b) => [b.agent || "—", b.pool || "—", overdue(b.sla || {}),
        b.agent === state.me.id ? "" : takeOverButton(b.conversation_id)])) : el("p", "muted", t("none")));
  } else {
    $("sv-overview").hidden = overview.reason.status === 404;
  }
  // A failed read is shown again on the next refresh.
  if (open.status === "fulfilled") {
    const convs = open.value.conversations || [];
    $("sv-convs").replaceChildren(convs.length ? table(["customer", "channel", "agent", "updated", ""],
      // People by the names they gave and have (issue 19 item 12), not their ids.
      convs.map((c) => [c.customer_name || customerName(c, t("visitor")), c.channel || "",
        c.agent ? named(agents.find((a) => a.id === c.agent) || { id: c.agent }) : "—", clock(c.updated),
        c.agent === state.me.id ? "" : takeOverButton(c.id)])) : el("p", "muted", t("none")));
  }
  await loadApprovals();
  await loadBot();
}

// What the bot deflects and what it could not answer: the FAQ's to-do list.
async function loadBot() {
  try {
    const [stats, unknown] = await Promise.all([api("/api/v1/bot/stats"), api("/api/v1/bot/unknown?limit=10")]);
    const rate = stats.deflection_rate === null ? "—" : `${Math.round(stats.deflection_rate * 100)}%`;
    $("sv-bot-stats").textContent = `${t("deflection")} ${rate} · ${t("bot_convs")} ${stats.conversations}` +
      ` · ${t("resolved_by_bot")} ${stats.resolved_by_bot} · ${t("handed_off")} ${stats.handed_off}`;
    const items = unknown.items || [];
    $("sv-unknown").replaceChildren(...(items.length ? items.map((q) => el("li", "", `${q.question} ×${q.count}`))
      : [el("li", "muted", t("none"))]));
    $("sv-bot").hidden = false;
  } catch {
    $("sv-bot").hidden = true;
  }
}

async function loadApprovals() {
  try {
    const data = await api("/api/v1/approvals");
    approvals.clear();
    for (const a of data.approvals || data.items || []) approvals.set(a.id, a);
    $("sv-approvals-panel").hidden = false;
  } catch (err) {
    if (err.status === 404) { $("sv-approvals-panel").hidden = true; return; }
  }
  renderApprovals();
}

export function approvalRequested(approval) {
  approvals.set(approval.id, approval);
  renderApprovals();
  if (approval.state === "pending") toast(`${t("approvals")}: ${approval.agent} ¥${approval.amount}`);
}

// An answer (ours or another supervisor's) takes the request off everyone's list.
export function approvalUpdated(approval) {
  if (approvals.has(approval.id)) { approvals.set(approval.id, approval); renderApprovals(); }
}

function answer(id, approved) {
  const note = (notes.get(id) || "").trim();
  // The WebSocket answers at once; the REST call is the path when it is down.
  if (!send({ type: "approval_answer", id, approved, note })) {
    api(`/api/v1/approvals/${encodeURIComponent(id)}`, { method: "POST", body: { approved, note } })
      .then(loadApprovals, (err) => toast(err.message, "error"));
  }
  const a = approvals.get(id);
  if (a) { a.state = approved ? "approved" : "rejected"; renderApprovals(); }
}

function renderApprovals() {
  const ul = $("sv-approvals");
  const open = [...approvals.values()].filter((a) => (a.state || "pending") === "pending");
  // The list refreshes every few seconds: redraw only when it changed, so a note being typed
  // keeps its focus and its text.
  if (!stale(ul, open.map((a) => a.id)) && ul.childElementCount) return;
  ul.replaceChildren();
  if (!open.length) { ul.append(el("li", "muted", t("none"))); return; }
  for (const a of open) {
    const li = el("li", "approval");
    li.append(el("strong", "", `¥${a.amount}`), ` ${a.agent} · ${a.conversation_id} `, el("q", "", a.reason || ""));
    const note = el("input", "", undefined, { "aria-label": t("approval_note"), placeholder: t("approval_note") });
    note.value = notes.get(a.id) || "";
    note.addEventListener("input", () => notes.set(a.id, note.value));
    const yes = el("button", "small", t("approve"), { type: "button" });
    const no = el("button", "small secondary", t("deny"), { type: "button" });
    yes.addEventListener("click", () => answer(a.id, true));
    no.addEventListener("click", () => answer(a.id, false));
    li.append(note, yes, no);
    ul.append(li);
  }
}

export function showSupervisor() {
  held ??= pressHold([$("sv-breaches"), $("sv-convs")], refresh);
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, REFRESH_MS);
}

export function hideSupervisor() {
  clearInterval(timer);
}
