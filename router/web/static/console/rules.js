// The routing-rules editor: line numbers, problems at their line, explain a test message,
// replay recent traffic, activate with If-Match, and the version history with diff and rollback.
import { $, api, clock, el, toast } from "./dom.js";
import { t, tf } from "./i18n.js";
import { flushForm, initBuilder, refreshForm } from "./rules_builder.js";
import { word } from "./view.js";

let etag = null;
let canActivate = false;
let version = null;
let problemLines = new Map(); // line -> message

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
  problemLines = new Map();
  const ul = $("rules-problems");
  ul.replaceChildren();
  for (const p of problems || []) {
    if (p.line) problemLines.set(p.line, p.message);
    const li = el("li", `problem ${p.severity || "error"}`);
    const b = el("button", "link", `${p.line ?? "?"}:${p.col ?? "?"}`, { type: "button", "aria-label": `line ${p.line}` });
    b.addEventListener("click", () => goTo(p.line, p.col));
    li.append(b, " ", el("span", "", p.message));
    ul.append(li);
  }
  $("rules-status").textContent = problems?.length ? "" : t("valid");
  drawGutter();
}

// Explain and replay in the console's language, from the answer's fields; the rule engine's own
// trace (its wording, quoting the rules) stays folded below, and the raw JSON after it.
function showResult(title, data) {
  const box = $("rules-result");
  box.replaceChildren(el("h3", "", title));
  const facts = el("dl", "facts");
  const fact = (key, value) => { if (value !== undefined && value !== null && value !== "") facts.append(el("dt", "", t(key)), el("dd", "", String(value))); };
  const d = data.decision;
  if (d) {
    fact("pool", d.pool);
    fact("rule", d.rule || t("rule_default"));
    fact("priority", d.priority);
    fact("bot_first", d.bot_first ? t("yes") : t("no"));
    fact("sla_profile", d.sla_profile);
    fact("intents", (d.intents || []).map((i) => word("hr_", i)).join(t("list_sep")));
    fact("skills", (d.skills || []).join(", "));
  }
  if (typeof data.total === "number") {
    const pct = (k) => (data.total ? `${k} (${Math.round((1000 * k) / data.total) / 10}%)` : String(k));
    fact("rp_total", tf("rp_total_v", { n: data.total, v: data.new_version }));
    fact("rp_pool", pct(data.pool_changed));
    fact("rp_priority", pct(data.priority_changed));
    fact("rp_bot", pct(data.bot_changed));
    fact("rp_any", pct(data.any_changed));
    fact("rp_moves", (data.moves || []).map((m) => `${m.from} → ${m.to}: ${m.count}`).join(t("list_sep")));
    fact("rp_fires", (data.fires || []).map((f) => tf("rp_fire", { rule: f.rule, old: f.old, new: f.new })).join(t("list_sep")));
  }
  box.append(facts);
  const why = data.explanation || data.lines;
  if (Array.isArray(why) && why.length) {
    const trace = el("details", "raw");
    const ol = el("ol", "why");
    for (const w of why) ol.append(el("li", "", typeof w === "string" ? w : JSON.stringify(w)));
    trace.append(el("summary", "", t("rule_trace")), ol);
    box.append(trace);
  }
  const raw = el("details", "raw");
  raw.append(el("summary", "", "JSON"), el("pre", "", JSON.stringify(data, null, 2)));
  box.append(raw);
}

export async function loadRules() {
  try {
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
    $("rules-src").value = data.source || "";
    $("rules-version").textContent = `${t("version")} ${version}` +
      (data.activated_by ? ` · ${t("author")} ${data.activated_by}` : "") +
      (data.activated_at ? ` · ${clock(data.activated_at)}` : "");
    $("rules-editor").hidden = false;
    $("rules-missing").hidden = true;
    showProblems([]);
    $("rules-status").textContent = "";
    loadVersions();
    await refreshForm();
  } catch (err) {
    $("rules-editor").hidden = true;
    $("rules-missing").hidden = false;
    $("rules-missing").textContent = err.status === 404 ? t("unavailable") : err.message;
  }
}

async function run(button, job) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try { await job(); } catch (err) { toast(err.body?.detail || err.message, "error"); } finally {
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
    await loadRules();
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
    await loadRules();
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
  $("rules-reload").addEventListener("click", (e) => run(e.currentTarget, loadRules));
  $("rules-explain").addEventListener("click", (e) => run(e.currentTarget, async () => {
    await flushForm();
    const body = { text: $("rules-text").value, source: src.value };
    if ($("rules-channel").value) body.channel = $("rules-channel").value;
    showResult(t("explain"), await api("/api/v1/rules/explain", { method: "POST", body }));
  }));
  $("rules-replay").addEventListener("click", (e) => run(e.currentTarget, async () => {
    await flushForm();
    $("rules-result").replaceChildren(el("p", "muted", `${t("replay")}…`, { role: "status" }));
    showResult(t("replay"), await api("/api/v1/rules/replay", { method: "POST", body: { source: src.value } }));
  }));
}
