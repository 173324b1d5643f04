// The routing-rules editor: line numbers, problems at their line, explain a test message,
// replay recent traffic, activate with If-Match, and the version history with diff and rollback.
import { $, api, clock, el, toast } from "./dom.js";
import { t, tf } from "./i18n.js";
import { refusal } from "./refusals.js";
import { flushForm, initBuilder, refreshForm } from "./rules_builder.js";
import { problemNodes, problemText } from "./rules_problems.js";
import { fill, renderSteps, v } from "./rules_why.js";
import { word } from "./view.js";

let etag = null;
let canActivate = false;
let version = null;
let problemLines = new Map(); // line -> message
let problemsShown = null; // the last problems, drawn again when the language changes
let loaded = null; // the source as last loaded, to tell an edit in progress from the live rules
let shown = null; // the last explain or replay answer, drawn again when the language changes

function lines() {
  return $("rules-src").value.split("\n").length;
}

function drawGutter() {
  const g = $("rules-gutter");
  const n = lines();
  if (g.childElementCount !== n) {
    g.replaceChildren(...Array.from({ length: n }, (_, i) => el("div", "", String(i + 1), { "data-line": String(i + 1) })));
  }
  for (const d of g.children) {
    const msg = problemLines.get(Number(d.dataset.line));
    d.className = msg ? "bad" : "";
    if (msg) d.title = msg; else d.removeAttribute("title");
  }
  g.scrollTop = $("rules-src").scrollTop;
}

function goTo(line, col) {
  const src = $("rules-src");
  const all = src.value.split("\n");
  let at = 0;
  for (let i = 0; i < line - 1 && i < all.length; i++) at += all[i].length + 1;
  at += Math.max(0, (col || 1) - 1);
  src.focus();
  src.setSelectionRange(at, Math.min(at + (all[line - 1]?.length || 0), src.value.length));
  // Bring the line into view: the line height is fixed by the stylesheet.
  const lh = parseFloat(getComputedStyle(src).lineHeight) || 18;
  src.scrollTop = Math.max(0, (line - 4) * lh);
  drawGutter();
}

function showProblems(problems) {
  problemsShown = problems;
  problemLines = new Map();
  const ul = $("rules-problems");
  ul.replaceChildren();
  for (const p of problems || []) {
    if (p.line) problemLines.set(p.line, problemText(p));
    const li = el("li", `problem ${p.severity || "error"}`);
    const b = el("button", "link", `${p.line ?? "?"}:${p.col ?? "?"}`, { type: "button", "aria-label": tf("rp_line_l", { line: p.line ?? "?", col: p.col ?? "?" }) });
    b.addEventListener("click", () => goTo(p.line, p.col));
    const text = el("span");
    text.append(...problemNodes(p));
    li.append(b, " ", text);
    ul.append(li);
  }
  $("rules-status").textContent = problems?.length ? "" : t("valid");
  drawGutter();
}

// Explain and replay in the console's language, from the answer's fields and codes: the decision,
// then each rule's step worded by rules_why.js; the shop's own values (rules, pools, keywords)
// stay as written in <code class="v">. The raw JSON, with the engine's English, is folded last.
function showResult(kind, data) {
  shown = { kind, data };
  const box = $("rules-result");
  box.replaceChildren(el("h3", "", t(kind)));
  const facts = el("dl", "facts");
  const fact = (key, value) => {
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
    const dd = el("dd");
    dd.append(...(Array.isArray(value) ? value : [value instanceof Node ? value : String(value)]));
    facts.append(el("dt", "", t(key)), dd);
  };
  const joined = (items, one) => items.flatMap((x, i) => (i ? [t("list_sep"), ...[one(x)].flat()] : [one(x)].flat()));
  const d = data.decision;
  if (d) {
    fact("pool", v(d.pool));
    fact("rule", d.rule ? v(d.rule) : t("rule_default"));
    fact("priority", d.priority);
    fact("bot_first", d.bot_first ? t("yes") : t("no"));
    fact("sla_profile", d.sla_profile ? v(d.sla_profile) : null);
    fact("intents", joined(d.intents || [], (i) => v(word("hr_", i))));
    fact("skills", joined(d.skills || [], v));
  }
  if (typeof data.total === "number") {
    const pct = (k) => (data.total ? `${k} (${Math.round((1000 * k) / data.total) / 10}%)` : String(k));
    fact("rp_total", fill("rp_total_v", { n: String(data.total), v: v(data.new_version) }));
    fact("rp_pool", pct(data.pool_changed));
    fact("rp_priority", pct(data.priority_changed));
    fact("rp_bot", pct(data.bot_changed));
    fact("rp_any", pct(data.any_changed));
    fact("rp_moves", joined(data.moves || [], (m) => fill("rp_move", { from: v(m.from), to: v(m.to), n: String(m.count) })));
    fact("rp_fires", joined(data.fires || [], (f) => fill("rp_fire", {
      rule: f.default ? t("rule_default") : v(f.rule), old: String(f.old), new: String(f.new) })));
  }
  box.append(facts);
  if (Array.isArray(data.steps) && data.steps.length) {
    box.append(el("h4", "", t("why_steps")), renderSteps(data.steps));
  } else if (Array.isArray(data.explanation) && data.explanation.length) {
    // A server without steps: its English trace, folded.
    const trace = el("details", "raw");
    const ol = el("ol", "why");
    for (const w of data.explanation) ol.append(el("li", "", String(w)));
    trace.append(el("summary", "", t("rule_trace")), ol);
    box.append(trace);
  }
  const raw = el("details", "raw");
  raw.append(el("summary", "", "JSON"), el("pre", "", JSON.stringify(data, null, 2)));
  box.append(raw);
}

// Coming back to the tab (or switching languages, which redraws it) keeps an edit in progress
// when the live version is still the one it started from; Reload, activate and roll back don't.
export async function loadRules(keepEdits = true) {
  try {
    const before = version;
    const r = await api("/api/v1/rules", { raw: true });
    if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status });
    const data = await r.json();
    etag = r.headers.get("ETag") || `"${data.version}"`;
    version = data.version;
    // Only those the server lets activate see Activate and roll back (a supervisor without the
    // shop's grant used to get a button that only earned a 403); the server still checks.
    canActivate = data.can_activate !== false;
    $("rules-activate").hidden = !canActivate;
    $("rules-readonly").hidden = canActivate;
    const edited = keepEdits && loaded !== null && $("rules-src").value !== loaded && before === version;
    loaded = data.source || "";
    if (!edited) $("rules-src").value = loaded;
    $("rules-version").textContent = `${t("version")} ${version}` +
      (data.activated_by ? ` · ${t("author")} ${data.activated_by}` : "") +
      (data.activated_at ? ` · ${clock(data.activated_at)}` : "");
    $("rules-editor").hidden = false;
    $("rules-missing").hidden = true;
    // An edit kept keeps its problems, drawn again (in the language just chosen, say).
    showProblems(edited ? problemsShown || [] : []);
    $("rules-status").textContent = "";
    loadVersions();
    await refreshForm(!keepEdits || before !== version); // unsaved rows in the form stay, as edits do
  } catch (err) {
    $("rules-editor").hidden = true;
    $("rules-missing").hidden = false;
    $("rules-missing").textContent = err.status === 404 ? t("unavailable") : err.message;
  }
}

async function run(button, job) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try { await job(); } catch (err) { toast(refusal(err), "error"); } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

async function validate() {
  await flushForm(); // the form's rows into the YAML first, when the form is the view in use
  const res = await api("/api/v1/rules/validate", { method: "POST", body: { source: $("rules-src").value } });
  showProblems(res.problems || []);
  return res.ok;
}

async function activate() {
  await flushForm();
  try {
    const res = await api("/api/v1/rules", { method: "PUT", headers: { "If-Match": etag }, body: { source: $("rules-src").value } });
    showProblems([]);
    toast(`${t("activated")} ${res.version}`);
    await loadRules(false);
    $("rules-status").textContent = `${t("activated")} ${res.version}`;
  } catch (err) {
    if (err.status === 422) { showProblems(err.body?.problems || []); return; }
    if (err.status === 412) { toast(t("stale"), "error"); return; }
    throw err;
  }
}

async function loadVersions() {
  try {
    const data = await api("/api/v1/rules/versions");
    const list = Array.isArray(data) ? data : data.versions || [];
    const ul = $("rules-versions");
    ul.replaceChildren();
    for (const v of list) {
      const li = el("li", v.version === version ? "current" : "");
      const b = el("button", "link", `${v.version}`, { type: "button" });
      b.addEventListener("click", () => showVersion(v.version));
      li.append(b, ` ${clock(v.at)} · ${v.author || ""} `, el("span", "muted", v.summary || ""));
      ul.append(li);
    }
    $("rules-history").hidden = false;
  } catch {
    $("rules-history").hidden = true;
  }
}

// The preview is what a rollback would change: the active version against the chosen one.
async function showVersion(v) {
  const data = await api(`/api/v1/rules/versions/${encodeURIComponent(v)}`);
  const box = $("rules-diff");
  box.hidden = false;
  const cur = data.current || version;
  $("rules-diff-title").textContent = v === cur ? t("diff_same") : tf("diff_current", { v, cur });
  const pre = $("rules-diff-text");
  pre.replaceChildren();
  const diff = data.rollback_diff ?? data.diff ?? "";
  for (const line of String(v === cur ? "" : diff).split("\n")) {
    const cls = line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : "";
    pre.append(el("span", cls, `${line}\n`));
  }
  const rb = $("rules-rollback");
  rb.hidden = v === cur || !canActivate;
  rb.onclick = () => run(rb, async () => {
    const res = await api(`/api/v1/rules/rollback/${encodeURIComponent(v)}`, { method: "POST", headers: { "If-Match": etag } });
    toast(`${t("rolled_back")} ${res.version}`);
    box.hidden = true;
    await loadRules(false);
    $("rules-status").textContent = `${t("rolled_back")} ${res.version}`;
  });
}

export function initRules() {
  initBuilder({ showProblems, goTo });
  const src = $("rules-src");
  src.addEventListener("input", () => { problemLines.clear(); drawGutter(); });
  src.addEventListener("scroll", () => { $("rules-gutter").scrollTop = src.scrollTop; });
  $("rules-validate").addEventListener("click", (e) => run(e.currentTarget, validate));
  $("rules-activate").addEventListener("click", (e) => run(e.currentTarget, activate));
  $("rules-reload").addEventListener("click", (e) => run(e.currentTarget, () => loadRules(false)));
  // main.js's handler (registered first) has switched the language by now.
  $("lang").addEventListener("click", () => {
    if ($("tab-rules").hidden) return;
    if (shown) showResult(shown.kind, shown.data);
    if (problemsShown?.length) showProblems(problemsShown);
  });
  $("rules-explain").addEventListener("click", (e) => run(e.currentTarget, async () => {
    await flushForm();
    const body = { text: $("rules-text").value, source: src.value };
    if ($("rules-channel").value) body.channel = $("rules-channel").value;
    showResult("explain", await api("/api/v1/rules/explain", { method: "POST", body }));
  }));
  $("rules-replay").addEventListener("click", (e) => run(e.currentTarget, async () => {
    await flushForm();
    $("rules-result").replaceChildren(el("p", "muted", `${t("replay")}…`, { role: "status" }));
    showResult("replay", await api("/api/v1/rules/replay", { method: "POST", body: { source: src.value } }));
  }));
}
