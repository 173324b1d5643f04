// Admins' pages: the shop set-up (pools, business hours, shifts, quick replies, FAQ, edited live
// and versioned like the rules) and the audit log with its filters. The server checks the role
// of every call; these tabs are hidden from everyone else only to keep the console tidy.
import { $, api, clock, el, toast } from "./dom.js";
import { t, tf } from "./i18n.js";
import { refusal } from "./refusals.js";
import { problemNodes } from "./rules_problems.js";
import "./setup_problems.js";

let kind = "pools";
let etag = null;
let version = null;

async function run(button, job) {
  button.disabled = true;
  try { await job(); } catch (err) { toast(refusal(err), "error"); } finally {
    // Validate and Activate stay off while no document is in the editor (loading, or it failed).
    button.disabled = !editable && (button.id === "setup-validate" || button.id === "setup-save");
  }
}

// Each problem at its place, worded from its code in the console's language (the English
// message when it has none); the place and the shop's values are <code class="v">.
function showProblems(problems) {
  const ul = $("setup-problems");
  ul.replaceChildren();
  for (const p of problems || []) {
    const where = p.field ? p.field : `${p.file || kind}:${p.line ?? "?"}:${p.col ?? "?"}`;
    const li = el("li", "problem error");
    li.append(el("code", "v", where), t("lp_sep"), ...problemNodes(p));
    ul.append(li);
  }
  $("setup-status").textContent = problems?.length ? "" : t("valid");
}

// A document loads read-only and empty: text typed into the previous document (or into this one
// before its source arrived) would be overwritten by the answer, and Activate would then save the
// shop's old text as a "new" version. Only the latest load may fill the editor, so switching
// documents quickly never shows one document under another's name.
let loads = 0;
let editable = false;

function busy(on) {
  const src = $("setup-src");
  editable = !on;
  src.readOnly = on;
  src.setAttribute("aria-busy", String(on));
  $("setup-validate").disabled = on;
  $("setup-save").disabled = on;
}

export async function loadSetup() {
  const mine = ++loads;
  kind = $("setup-kind").value;
  $("setup-pools").hidden = kind !== "pools";
  $("setup-diff").hidden = true;
  showProblems([]);
  $("setup-status").textContent = "";
  $("setup-src").value = "";
  busy(true);
  let loaded = false;
  try {
    const r = await api(`/api/v1/admin/${kind}`, { raw: true });
    if (mine !== loads) return;
    if (!r.ok) {
      $("setup-version").textContent = r.status === 404 ? t("unavailable") : tf("setup_load_failed", { status: r.status });
      return;
    }
    const data = await r.json();
    if (mine !== loads) return;
    etag = r.headers.get("ETag") || `"${data.version}"`;
    version = data.version;
    $("setup-src").value = data.source || "";
    $("setup-version").textContent = `${version} · ${t("author")} ${data.activated_by || "—"} · ${clock(data.activated_at)}`;
    loaded = true;
  } finally {
    // A failed load leaves the editor shut (Reload tries again): an Activate of the empty box
    // would only meet the previous document's version.
    if (mine === loads) busy(!loaded);
  }
  await loadVersions(mine);
}

async function validate() {
  const res = await api(`/api/v1/admin/${kind}/validate`, { method: "POST", body: { source: $("setup-src").value } });
  showProblems(res.problems || []);
}

async function save() {
  try {
    const res = await api(`/api/v1/admin/${kind}`, { method: "PUT", headers: { "If-Match": etag }, body: { source: $("setup-src").value } });
    toast(`${t("activated")} ${res.version}`);
    await loadSetup();
    $("setup-status").textContent = `${t("activated")} ${res.version}`;
  } catch (err) {
    if (err.status === 422) { showProblems(err.body?.problems || []); return; }
    if (err.status === 412) { toast(t("stale"), "error"); return; }
    throw err;
  }
}

async function loadVersions(mine) {
  const list = await api(`/api/v1/admin/${kind}/versions`);
  if (mine !== loads) return; // a later load draws its own document's list
  const ul = $("setup-versions");
  ul.replaceChildren();
  for (const v of list) {
    const li = el("li", v.version === version ? "current" : "");
    const b = el("button", "link", v.version, { type: "button" });
    b.addEventListener("click", () => showVersion(v.version));
    li.append(b, ` ${clock(v.at)} · ${v.author || ""} `, el("span", "muted", v.summary || ""));
    ul.append(li);
  }
}

async function showVersion(v) {
  const data = await api(`/api/v1/admin/${kind}/versions/${encodeURIComponent(v)}`);
  $("setup-diff").hidden = false;
  $("setup-diff-title").textContent = `${v} · ${t("diff")}`;
  const pre = $("setup-diff-text");
  pre.replaceChildren();
  for (const line of String(data.diff || "").split("\n")) {
    const cls = line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : "";
    pre.append(el("span", cls, `${line}\n`));
  }
  const rb = $("setup-rollback");
  rb.hidden = v === version;
  rb.onclick = () => run(rb, async () => {
    const res = await api(`/api/v1/admin/${kind}/rollback/${encodeURIComponent(v)}`, { method: "POST", headers: { "If-Match": etag } });
    toast(`${t("rolled_back")} ${res.version}`);
    await loadSetup();
  });
}

async function savePool(e) {
  e.preventDefault();
  const id = $("pool-id").value.trim();
  const body = { name: $("pool-name").value.trim(), skills: $("pool-skills").value.split(/[,，\s]+/).filter(Boolean) };
  const pools = (await api("/api/v1/pools")).pools;
  const exists = pools.some((p) => p.id === id);
  try {
    await api(exists ? `/api/v1/pools/${encodeURIComponent(id)}` : "/api/v1/pools",
      { method: exists ? "PATCH" : "POST", body: exists ? body : { id, ...body } });
    toast(t("saved"));
    await loadSetup();
  } catch (err) {
    if (err.status === 422) { showProblems(err.body?.problems || []); return; }
    throw err;
  }
}

// -- the audit log ------------------------------------------------------------------------------
let cursor = null;

function when(id) {
  const v = $(id).value;
  return v ? String(new Date(v).getTime() / 1000) : "";
}

function change(entry) {
  const parts = [];
  if (entry.before !== null && entry.before !== undefined) parts.push(JSON.stringify(entry.before));
  if (entry.after !== null && entry.after !== undefined) parts.push(JSON.stringify(entry.after));
  let text = parts.join(" → ");
  if (entry.detail) {
    const d = { ...entry.detail };
    delete d.diff; // a whole diff does not fit a row; the version's page shows it
    if (Object.keys(d).length) text += `${text ? "\n" : ""}${JSON.stringify(d)}`;
  }
  return text;
}

export async function loadAudit(more = false) {
  const q = new URLSearchParams();
  for (const [k, id] of [["actor", "audit-actor"], ["action", "audit-action"], ["target", "audit-target"]]) {
    if ($(id).value.trim()) q.set(k, $(id).value.trim());
  }
  if (when("audit-since")) q.set("since", when("audit-since"));
  if (when("audit-until")) q.set("until", when("audit-until"));
  if (more && cursor) q.set("cursor", cursor);
  const rows = $("audit-rows");
  if (!more) rows.replaceChildren();
  try {
    const data = await api(`/api/v1/audit?${q}`);
    for (const e of data.entries) {
      const tr = el("tr", "", undefined, { "data-action": e.action });
      tr.append(el("td", "", clock(e.at)), el("td", "", e.actor_name || e.actor || t("audit_system")),
        el("td", "", e.addr), el("td", "", e.action), el("td", "", e.target), el("td", "change", change(e)));
      rows.append(tr);
    }
    cursor = data.next_cursor;
    $("audit-more").hidden = !cursor;
    $("audit-status").textContent = rows.childElementCount ? "" : t("audit_none");
    if (data.archive === false) $("audit-status").textContent = t("audit_partial");
  } catch (err) {
    $("audit-status").textContent = refusal(err);
  }
}

export function initAdmin() {
  $("setup-kind").addEventListener("change", () => loadSetup().catch((err) => toast(err.message, "error")));
  $("setup-reload").addEventListener("click", (e) => run(e.currentTarget, loadSetup));
  $("setup-validate").addEventListener("click", (e) => run(e.currentTarget, validate));
  $("setup-save").addEventListener("click", (e) => run(e.currentTarget, save));
  $("pool-form").addEventListener("submit", (e) => savePool(e).catch((err) => toast(refusal(err), "error")));
  $("audit-form").addEventListener("submit", (e) => { e.preventDefault(); loadAudit(); });
  $("audit-more").addEventListener("click", () => loadAudit(true));
}
