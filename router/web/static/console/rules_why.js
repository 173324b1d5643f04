// Why each rule matched or missed, worded in the console's language from the codes the server
// returns with an explanation (routing_rules/reasons.py). The shop's data (rule names, pools,
// keywords, the product title) is shown as written, each value in its own <code class="v">, so a
// reader (and the language test) can tell the console's words from the shop's.
import { el } from "./dom.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  en: {
    why_steps: "How the rules decided", why_decided: "Rule {rule} decided: {why}.",
    why_matched: "Rule {rule} matched and the rules went on ({extra}): {why}.", why_missed: "Rule {rule} did not match: {why}.",
    why_default: "No rule decided, so the default sends it to {pool}.", why_boost: "priority {n}", why_no_boost: "priority unchanged",
    why_tags: "tags {tags}", r_always: "it has no conditions", r_and: " and ", r_or: "; ", r_none: "none",
    r_none_of: "none of these held: {items}", r_list: ", ",
    r_is: "the {field} is {actual}", r_is_not: "the {field} is {actual}, not {values}",
    r_has: "{field} {values} found", r_has_not: "no {field} {values} found (found: {present})",
    r_has_all_not: "not all of the {field} {values} found (found: {present})",
    r_contains: "the message contains {words}", r_contains_not: "the message contains none of {words}",
    r_contains_all_not: "the message lacks {words}", r_no_product: "the customer is not looking at a product",
    r_product: "the product title contains {words}", r_product_not: "the product title {title} contains none of {words}",
    r_matches: "the message matches {pattern}", r_matches_not: "the message does not match {pattern}",
    r_angry_true: "the customer is upset", r_angry_false: "the customer is not upset",
    r_reopened_true: "the conversation was reopened", r_reopened_false: "the conversation was not reopened",
    r_compare: "the {field} {actual} is {op} {value}", r_compare_not: "the {field} {actual} is not {op} {value}",
    r_time: "the local time {local} ({timezone}) is within {windows}",
    r_time_not: "the local time {local} ({timezone}) is outside {windows}",
    r_days: "{date} is a {day}, one of {days}", r_days_not: "{date} is a {day}, not one of {days}",
    r_cal_in: "{day} {local} is within the hours of calendar {calendar}",
    r_cal_out: "{day} {local} is outside the hours of calendar {calendar}", r_other: "{text}",
    f_channel: "channel", f_account: "account", f_segment: "customer segment", f_language: "language",
    f_kind: "message kind", f_previous_pool: "previous pool", f_product: "product", f_intent: "intent",
    f_customer_tag: "customer tag", f_message_count: "message count",
    wd_0: "Monday", wd_1: "Tuesday", wd_2: "Wednesday", wd_3: "Thursday", wd_4: "Friday", wd_5: "Saturday", wd_6: "Sunday",
    rp_move: "{from} → {to}: {n}",
  },
  zh: {
    why_steps: "规则的判断过程", why_decided: "规则 {rule} 命中并决定分配：{why}。",
    why_matched: "规则 {rule} 命中，继续判断后面的规则（{extra}）：{why}。", why_missed: "规则 {rule} 未命中：{why}。",
    why_default: "没有规则决定分配，按默认进入 {pool}。", why_boost: "优先级 {n}", why_no_boost: "优先级不变",
    why_tags: "标签 {tags}", r_always: "没有条件", r_and: "，并且", r_or: "；", r_none: "无",
    r_none_of: "以下条件都不成立：{items}", r_list: "、",
    r_is: "{field}是 {actual}", r_is_not: "{field}是 {actual}，不是 {values}",
    r_has: "检测到{field} {values}", r_has_not: "未检测到{field} {values}（检测到：{present}）",
    r_has_all_not: "{field} {values} 不全（检测到：{present}）",
    r_contains: "消息包含 {words}", r_contains_not: "消息不包含 {words} 中的任何一个",
    r_contains_all_not: "消息缺少 {words}", r_no_product: "客户没有在看商品",
    r_product: "商品标题包含 {words}", r_product_not: "商品标题 {title} 不包含 {words} 中的任何一个",
    r_matches: "消息匹配 {pattern}", r_matches_not: "消息不匹配 {pattern}",
    r_angry_true: "客户情绪激动", r_angry_false: "客户情绪平稳",
    r_reopened_true: "会话是重新打开的", r_reopened_false: "会话不是重新打开的",
    r_compare: "{field} {actual} {op} {value}", r_compare_not: "{field} {actual}，不满足 {op} {value}",
    r_time: "当地时间 {local}（{timezone}）在 {windows} 之内",
    r_time_not: "当地时间 {local}（{timezone}）不在 {windows} 之内",
    r_days: "{date} 是{day}，在 {days} 之内", r_days_not: "{date} 是{day}，不在 {days} 之内",
    r_cal_in: "{day} {local} 在日历 {calendar} 的营业时间内",
    r_cal_out: "{day} {local} 不在日历 {calendar} 的营业时间内", r_other: "{text}",
    f_channel: "渠道", f_account: "账号", f_segment: "客户类型", f_language: "语言",
    f_kind: "消息类型", f_previous_pool: "上次的队列", f_product: "商品", f_intent: "意图",
    f_customer_tag: "客户标签", f_message_count: "消息数",
    wd_0: "周一", wd_1: "周二", wd_2: "周三", wd_3: "周四", wd_4: "周五", wd_5: "周六", wd_6: "周日",
    rp_move: "{from} → {to}：{n}",
  },
});

// A code's word when the table has one (view.js has the same; importing it would be a cycle).
const word = (prefix, code) => { const text = t(`${prefix}${code}`); return text === `${prefix}${code}` ? code : text; };

const OPS = { "==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">" };

// The shop's value, as written.
export const v = (x) => el("code", "v", String(x));

function list(values, one = v) {
  const sep = t("r_list");
  const out = [];
  for (const x of values || []) out.push(...(out.length ? [sep] : []), one(x));
  return out.length ? out : [t("r_none")];
}

// A template's {slots} filled with nodes or lists of nodes: the words stay text, values stay elements.
export function fill(key, vars) {
  const out = [];
  const parts = t(key).split(/\{(\w+)\}/);
  parts.forEach((part, i) => {
    if (i % 2 === 0) { if (part) out.push(part); return; }
    const x = vars[part];
    if (x === undefined) out.push(`{${part}}`);
    else if (Array.isArray(x)) out.push(...x);
    else out.push(x);
  });
  return out;
}

const fieldName = (f) => word("f_", f);
const intent = (i) => v(word("hr_", i));
const day = (n) => t(`wd_${n}`);

function value(field, x) {
  if (field === "segment") return v(word("seg_", x));
  if (field === "intent") return intent(x);
  return x === null || x === undefined ? t("r_none") : v(x);
}

// One reason as a list of text and elements.
export function reasonNodes(r) {
  const held = r.held !== false;
  switch (r.code) {
    case "always": return [t("r_always")];
    case "all": return r.items.flatMap((it, i) => (i ? [t("r_and"), ...reasonNodes(it)] : reasonNodes(it)));
    case "none_of": return fill("r_none_of", { items: r.items.flatMap((it, i) => (i ? [t("r_or"), ...reasonNodes(it)] : reasonNodes(it))) });
    // What the inner condition found is the fact; the step's outcome says whether that was wanted.
    case "not": return reasonNodes(r.item);
    case "is": return fill(held ? "r_is" : "r_is_not", {
      field: fieldName(r.field), actual: value(r.field, r.actual), values: list(r.values, (x) => value(r.field, x)) });
    case "has": {
      const one = (x) => value(r.field, x);
      if (held) return fill("r_has", { field: fieldName(r.field), values: list(r.hits, one) });
      return fill(r.all ? "r_has_all_not" : "r_has_not", {
        field: fieldName(r.field), values: list(r.values, one), present: list(r.present, one) });
    }
    case "contains":
      if (held) return fill("r_contains", { words: list(r.found) });
      return r.all ? fill("r_contains_all_not", { words: list(r.missing) }) : fill("r_contains_not", { words: list(r.words) });
    case "no_product": return [t("r_no_product")];
    case "product_title":
      return held ? fill("r_product", { words: list(r.found) }) : fill("r_product_not", { title: v(r.title), words: list(r.words) });
    case "matches": return fill(held ? "r_matches" : "r_matches_not", { pattern: v(`/${r.pattern}/`) });
    case "flag": return [t(`r_${r.field}_${r.actual ? "true" : "false"}`)];
    case "compare": return fill(held ? "r_compare" : "r_compare_not", {
      field: fieldName(r.field), actual: v(r.actual), op: OPS[r.op] || r.op, value: v(r.value) });
    case "time": return fill(held ? "r_time" : "r_time_not", { local: v(r.local), timezone: v(r.timezone), windows: list(r.windows) });
    case "days": return fill(held ? "r_days" : "r_days_not", {
      date: v(r.date), day: day(r.weekday), days: (r.days || []).map(day).join(t("r_list")) });
    case "calendar": return fill(r.inside ? "r_cal_in" : "r_cal_out", { day: day(r.weekday), local: v(r.local), calendar: v(r.calendar) });
    default: return fill("r_other", { text: v(r.text ?? r.code) });
  }
}

function stepNodes(s) {
  if (s.outcome === "default") return fill("why_default", { pool: v(s.pool) });
  const why = reasonNodes(s.reason || { code: "always" });
  if (s.outcome === "matched") {
    const extra = [s.boost ? fill("why_boost", { n: v(s.boost > 0 ? `+${s.boost}` : s.boost) }) : [t("why_no_boost")]];
    if (s.tags?.length) extra.push(fill("why_tags", { tags: list(s.tags) }));
    return fill("why_matched", { rule: v(s.rule), extra: extra.flatMap((e, i) => (i ? [t("list_sep"), ...e] : e)), why });
  }
  return fill(s.outcome === "decided" ? "why_decided" : "why_missed", { rule: v(s.rule), why });
}

// The explanation as an ordered list, one rule a line.
export function renderSteps(steps) {
  const ol = el("ol", "why steps");
  for (const s of steps) {
    const li = el("li", `step ${s.outcome}`);
    li.append(...stepNodes(s));
    ol.append(li);
  }
  return ol;
}
