// The rule builder (issue 19): the common rules as a form beside the YAML editor. Both edit the
// same text: showing the form reads the YAML into rows (POST /api/v1/rules/builder/read), and
// leaving it, or validating, activating, explaining, replaying, writes the rows back
// (POST /api/v1/rules/builder), which keeps comments and every rule the form did not change.
// Rules the form cannot show are read-only cards with their YAML and an "Edit in YAML" link.
import { $, api, el } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";
import { refusal } from "./refusals.js";
import { problemText } from "./rules_problems.js";

addStrings({
  en: {
    rb_views: "Edit as", rb_yaml: "YAML", rb_form: "Form", rb_title: "Rules as a form",
    rb_intro: "Rules are tried from top to bottom; the first that matches decides. Empty fields take the default's value. Your changes are written into the YAML, which Validate and Activate use as before.",
    rb_add: "Add a rule", rb_rule_n: "Rule {n}: {name}", rb_new: "new rule", rb_name: "Name",
    rb_keywords: "Keywords (comma-separated)", rb_intents: "Intents (comma-separated)",
    rb_channels: "Channels (comma-separated)", rb_pool: "Pool", rb_priority: "Priority", rb_bot: "Bot first",
    rb_sla: "SLA profile", rb_tags: "Tags (comma-separated)", rb_as_default: "As the default",
    rb_bot_on: "Bot answers first", rb_bot_off: "Straight to a person", rb_sla_s: "{name} (first reply {s} s)",
    rb_p_low: "low", rb_p_normal: "normal", rb_p_high: "high", rb_p_urgent: "urgent",
    rb_up: "Move up", rb_down: "Move down", rb_delete: "Delete", rb_edit_yaml: "Edit in YAML",
    rb_up_l: "Move {name} up", rb_down_l: "Move {name} down", rb_delete_l: "Delete {name}",
    rb_edit_yaml_l: "Edit {name} in YAML",
    rb_ro_continue: "A continue rule (it adds tags and boost); the form cannot show it: edit it in YAML.",
    rb_ro_when: "It matches on '{key}', which the form cannot show: edit it in YAML.",
    rb_ro_then: "It sets '{key}', which the form cannot show: edit it in YAML.",
    rb_ro_key: "It has '{key}', which the form cannot show: edit it in YAML.",
    rb_ro_shape: "It is written in a way the form cannot show: edit it in YAML.",
    rb_fix_yaml: "The YAML has problems; fix them (listed below) before using the form.",
    rb_fix_form: "Some rules in the form have problems; fix them first.",
    rb_disabled: "(disabled)",
  },
  zh: {
    rb_views: "编辑方式", rb_yaml: "文本", rb_form: "表单", rb_title: "表单编辑规则",
    rb_intro: "规则自上而下逐条匹配，第一条匹配的规则生效。留空的项沿用默认设置。你的修改会写回规则文本，校验和发布与以前一样。",
    rb_add: "添加规则", rb_rule_n: "规则 {n}：{name}", rb_new: "新规则", rb_name: "名称",
    rb_keywords: "关键词（逗号分隔）", rb_intents: "意图（逗号分隔）",
    rb_channels: "渠道（逗号分隔）", rb_pool: "技能组", rb_priority: "优先级", rb_bot: "机器人先接待",
    rb_sla: "SLA 方案", rb_tags: "标签（逗号分隔）", rb_as_default: "沿用默认",
    rb_bot_on: "机器人先回答", rb_bot_off: "直接转人工", rb_sla_s: "{name}（首次响应 {s} 秒）",
    rb_p_low: "低", rb_p_normal: "普通", rb_p_high: "高", rb_p_urgent: "紧急",
    rb_up: "上移", rb_down: "下移", rb_delete: "删除", rb_edit_yaml: "在文本中编辑",
    rb_up_l: "上移 {name}", rb_down_l: "下移 {name}", rb_delete_l: "删除 {name}",
    rb_edit_yaml_l: "在文本中编辑 {name}",
    rb_ro_continue: "这是叠加规则（只加标签和加权），表单无法显示，请在文本中编辑。",
    rb_ro_when: "它按“{key}”匹配，表单无法显示，请在文本中编辑。",
    rb_ro_then: "它设置了“{key}”，表单无法显示，请在文本中编辑。",
    rb_ro_key: "它含有“{key}”，表单无法显示，请在文本中编辑。",
    rb_ro_shape: "它的写法表单无法显示，请在文本中编辑。",
    rb_fix_yaml: "规则文本有问题，请先修正（见下方列表）再使用表单。",
    rb_fix_form: "表单中有规则存在问题，请先修正。",
    rb_disabled: "（已停用）",
  },
});

let hooks = { showProblems: () => {}, goTo: () => {} };
let showing = false; // the form is the view in use
let base = ""; // the YAML the rows were read from: their `ref`s index its rules
let rows = [];
let choices = { pools: [], sla: [], intents: [], channels: [], priorities: [] };
let dirty = false;

const list = (s) => s.split(/[,，、]/).map((x) => x.trim()).filter(Boolean);
const joined = (a) => (a || []).join(", ");
const src = () => $("rules-src");

export const formShown = () => showing;

function setView(form) {
  showing = form;
  $("rules-builder").hidden = !form;
  $("rules-code").hidden = form;
  $("rb-show-form").setAttribute("aria-pressed", String(form));
  $("rb-show-yaml").setAttribute("aria-pressed", String(!form));
}

// The YAML into rows. False (and the YAML view kept) when it does not parse.
async function read() {
  try {
    const data = await api("/api/v1/rules/builder/read", { method: "POST", body: { source: src().value } });
    base = src().value;
    rows = data.rules;
    choices = data.choices;
    dirty = false;
    $("rb-error").textContent = "";
    draw();
    return true;
  } catch (err) {
    if (err.status !== 422) throw err;
    hooks.showProblems(err.body?.problems || []);
    $("rb-error").textContent = t("rb_fix_yaml");
    return false;
  }
}

// The rows into the YAML editor, and read back so every `ref` points into the new text. Throws
// (and marks the rows) when the server refuses a row.
export async function flushForm() {
  if (!showing || !dirty) return;
  let out;
  try {
    out = await api("/api/v1/rules/builder", { method: "POST", body: { source: base, rules: rows } });
  } catch (err) {
    if (err.status !== 422) throw err;
    markRows(err.body?.problems || []);
    $("rb-error").textContent = t("rb_fix_form");
    throw new Error(t("rb_fix_form"));
  }
  src().value = out.source;
  src().dispatchEvent(new Event("input"));
  await read();
  hooks.showProblems(out.problems || []);
  markRows(out.problems || []);
}

function markRows(problems) {
  for (const p of problems) {
    if (p.rule === null || p.rule === undefined) continue;
    const li = $("rb-rules").children[p.rule];
    const box = li?.querySelector(".rb-problem");
    if (!box) continue;
    li.classList.add("has-problem");
    box.textContent = `${box.textContent ? `${box.textContent} ` : ""}${problemText(p)}`;
  }
}

// Called when the YAML is (re)loaded from the server: the form shows it, unless it holds rows
// not yet written into the YAML and the caller keeps edits in progress.
export async function refreshForm(force) {
  if (showing && (force || !dirty)) await read();
}

function field(label, control) {
  const l = el("label", "", label);
  l.append(control);
  return l;
}

function textInput(value, onInput, attrs = {}) {
  const input = el("input", "", null, { type: "text", ...attrs });
  input.value = value;
  input.addEventListener("input", () => { onInput(input.value); dirty = true; });
  return input;
}

function select(options, value, onChange) {
  const s = el("select");
  for (const [v, label] of options) s.append(el("option", "", label, { value: v }));
  s.value = value;
  s.addEventListener("change", () => { onChange(s.value); dirty = true; });
  return s;
}

// A card's button; its name says which rule ("Move wholesale up"), and follows the Name field.
function tool(label, key, name, onClick) {
  const b = el("button", "ghost", label, { type: "button", "aria-label": tf(key, { name }), "data-l": key });
  b.addEventListener("click", onClick);
  return b;
}

function relabel(li, name) {
  for (const b of li.querySelectorAll("[data-l]")) b.setAttribute("aria-label", tf(b.dataset.l, { name: name || t("rb_new") }));
}

function move(i, by, focusClass) {
  const j = i + by;
  if (j < 0 || j >= rows.length) return;
  [rows[i], rows[j]] = [rows[j], rows[i]];
  dirty = true;
  draw();
  $("rb-rules").children[j].querySelector(focusClass)?.focus();
}

function remove(i) {
  rows.splice(i, 1);
  dirty = true;
  draw();
  const next = $("rb-rules").children[Math.min(i, rows.length - 1)];
  (next?.querySelector("input, button") || $("rb-add")).focus();
}

function editableCard(row, i) {
  const name = row.name || t("rb_new");
  const fs = el("fieldset");
  const legend = el("legend", "", tf("rb_rule_n", { n: i + 1, name }) + (row.enabled === false ? ` ${t("rb_disabled")}` : ""));
  fs.append(legend);
  const named = textInput(row.name || "", (v) => {
    row.name = v;
    legend.textContent = tf("rb_rule_n", { n: i + 1, name: v || t("rb_new") });
    relabel(fs.parentElement, v);
  }, { class: "rb-name" });
  fs.append(field(t("rb_name"), named));
  fs.append(field(t("rb_keywords"), textInput(joined(row.keywords), (v) => { row.keywords = list(v); })));
  fs.append(field(t("rb_intents"), textInput(joined(row.intents), (v) => { row.intents = list(v); }, { list: "rb-intents" })));
  fs.append(field(t("rb_channels"), textInput(joined(row.channels), (v) => { row.channels = list(v); }, { list: "rb-channels" })));
  const dflt = ["", t("rb_as_default")];
  const pools = [...new Set([...(choices.pools || []), ...(row.pool ? [row.pool] : [])])];
  fs.append(field(t("rb_pool"), select([dflt, ...pools.map((p) => [p, p])], row.pool || "", (v) => { row.pool = v || null; })));
  const prios = (choices.priorities || []).map((p) => [p, t(`rb_p_${p}`)]);
  if (row.priority !== null && row.priority !== undefined && !prios.some(([v]) => v === String(row.priority))) prios.push([String(row.priority), String(row.priority)]);
  fs.append(field(t("rb_priority"), select([dflt, ...prios], row.priority === null || row.priority === undefined ? "" : String(row.priority), (v) => { row.priority = v || null; })));
  const bot = row.bot === true ? "on" : row.bot === false ? "off" : "";
  fs.append(field(t("rb_bot"), select([dflt, ["on", t("rb_bot_on")], ["off", t("rb_bot_off")]], bot, (v) => { row.bot = v === "on" ? true : v === "off" ? false : null; })));
  const slas = (choices.sla || []).map((p) => [p.name, p.first_response_s ? tf("rb_sla_s", { name: p.name, s: p.first_response_s }) : p.name]);
  if (row.sla && !slas.some(([v]) => v === row.sla)) slas.push([row.sla, row.sla]);
  fs.append(field(t("rb_sla"), select([dflt, ...slas], row.sla || "", (v) => { row.sla = v || null; })));
  fs.append(field(t("rb_tags"), textInput(joined(row.tags), (v) => { row.tags = list(v); })));
  return fs;
}

function readonlyCard(row, i) {
  const box = el("div");
  const title = tf("rb_rule_n", { n: i + 1, name: row.name || "?" }) + (row.enabled === false ? ` ${t("rb_disabled")}` : "");
  box.append(el("p", "", title, { class: "rb-ro-name" }));
  box.append(el("p", "muted", tf(`rb_ro_${row.reason}`, { key: row.key || "" })));
  box.append(el("pre", "", row.text || ""));
  return box;
}

function draw() {
  const ol = $("rb-rules");
  ol.replaceChildren();
  rows.forEach((row, i) => {
    const editable = row.editable !== false;
    const li = el("li", `rb-rule${editable ? "" : " rb-readonly"}`);
    li.dataset.name = row.name || "";
    li.append(editable ? editableCard(row, i) : readonlyCard(row, i));
    li.append(el("p", "rb-problem", "", { "aria-live": "polite" }));
    const name = row.name || t("rb_new");
    const tools = el("div", "rb-tools");
    const up = tool(t("rb_up"), "rb_up_l", name, () => move(i, -1, ".rb-up"));
    up.classList.add("rb-up");
    up.disabled = i === 0;
    const down = tool(t("rb_down"), "rb_down_l", name, () => move(i, 1, ".rb-down"));
    down.classList.add("rb-down");
    down.disabled = i === rows.length - 1;
    tools.append(up, down, tool(t("rb_delete"), "rb_delete_l", name, () => remove(i)));
    if (!editable) {
      tools.append(tool(t("rb_edit_yaml"), "rb_edit_yaml_l", name, async () => {
        const at = i;
        await showYaml();
        const line = rows[at]?.line;
        if (line) hooks.goTo(line, 1);
      }));
    }
    li.append(tools);
    ol.append(li);
  });
  $("rb-intents").replaceChildren(...(choices.intents || []).map((x) => el("option", "", null, { value: x })));
  $("rb-channels").replaceChildren(...(choices.channels || []).map((x) => el("option", "", null, { value: x })));
}

async function showYaml() {
  if (!showing) return;
  await flushForm();
  setView(false);
}

async function showForm() {
  if (showing) return;
  if (await read()) setView(true);
}

function addRule() {
  rows.push({ ref: null, editable: true, name: "", keywords: [], intents: [], channels: [], pool: null,
    priority: null, bot: null, sla: null, tags: [] });
  dirty = true;
  draw();
  $("rb-rules").lastElementChild.querySelector(".rb-name").focus();
}

export function initBuilder(given) {
  hooks = given;
  const guard = (job) => async (e) => {
    const b = e.currentTarget;
    b.disabled = true;
    try { await job(); } catch (err) { $("rb-error").textContent = refusal(err); } finally { b.disabled = false; }
  };
  $("rb-show-yaml").addEventListener("click", guard(showYaml));
  $("rb-show-form").addEventListener("click", guard(showForm));
  $("rb-add").addEventListener("click", addRule);
}
