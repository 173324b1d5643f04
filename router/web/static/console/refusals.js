// A refusal from the server ({error, detail, ...params} or an error frame {code, detail, ...})
// in the console's language. The English console keeps the server's `detail` (it is English and
// often more exact); the Chinese console words the code, with the values the server sends beside
// it (limit, field, rule, retry_after), and never shows the English detail: a code this table
// lacks reads "操作未完成（代码 X）". tests/router/test_refusal_wording.py checks every code the
// console's APIs can send has both entries.
import { addStrings, currentLang, has, tf } from "./i18n.js";

addStrings({
  en: {
    re_fallback: "Not done (code {code}).",
    re_field_text: "the message", re_field_comment: "the comment", re_field_name: "the name",
    re_field_contact: "the contact", re_field_message: "the message", re_field_note: "the note",
    re_field_reason: "the reason", re_field_password: "the password", re_field_q: "the search",
    re_field_id: "the ID", re_field_role: "the role", re_field_pools: "the pools", re_field_skills: "the skills",
    re_field_max_chats: "the cap", re_bad_request__field: "Check {field}.", re_bad_request__unknown_pool: "No pool {value}.",
    re_already_closed: "It was closed already.", re_already_rated: "It was rated already.",
    re_archive_unavailable: "The history archive is unavailable; try again shortly.",
    re_bad_frame: "The request was malformed.", re_bad_json: "The request was not valid JSON.",
    re_bad_multipart: "The upload was malformed.", re_bad_query: "A search or filter value is not valid.",
    re_bad_rating: "The rating must be from 1 to 5.", re_bad_request: "The request was not valid.",
    re_bad_state: "The sign-in took too long or was interrupted; start it again.",
    re_busy: "The pools kept changing; try again.", re_closed: "The conversation is closed.",
    re_compliance_blocked: "Not sent: it contains flagged words.",
    re_enrol_2fa: "Set up two-factor sign-in first.", re_exists: "It exists already.",
    re_forbidden: "Your role may not do this.", re_from_config: "It comes from the config file; change it there.",
    re_internal: "Something went wrong on the server; it will be tried again.",
    re_invalid_document: "The document has problems.", re_invalid_file: "The file is not valid.",
    re_invalid_form: "The form has problems.", re_invalid_media: "The file is empty, damaged or cannot be read.",
    re_invalid_pool: "The pool has problems.", re_invalid_rules: "The rules have problems.",
    re_locked: "Too many failed sign-ins; the account is locked for now.",
    re_locked__wait: "Too many failed sign-ins; try again in {retry_after} s.",
    re_merged: "This customer was merged into another.", re_no_agent: "No such agent.",
    re_no_enrolment: "Two-factor setup was not started.", re_no_model: "No language model is configured.",
    re_no_order_service: "No order service is configured.", re_not_assigned_to_you: "This conversation is not assigned to you.",
    re_not_closed: "The conversation is not closed yet.", re_not_configured: "This is not configured on the server.",
    re_not_found: "Not found.", re_not_merged: "This customer is not merged.",
    re_nothing_to_answer: "There is nothing to answer yet.", re_oidc_unavailable: "Single sign-on is unavailable.",
    re_orders_unavailable: "The order service did not answer.", re_otp_required: "Enter the two-factor code.",
    re_own_conversation: "This is your own conversation.", re_precondition_required: "Reload first, then change it.",
    re_rate_limited: "Too many requests; try again shortly.", re_rate_limited__wait: "Too many requests; try again in {retry_after} s.",
    re_slow_down: "Too many sign-in attempts; wait a moment.", re_slow_down__wait: "Too many sign-in attempts; try again in {retry_after} s.",
    re_stale_version: "Someone changed it meanwhile; reload and apply your change again.",
    re_too_deep: "The request is nested too deeply.", re_too_large: "The file is too large.",
    re_too_large__limit: "The file is too large: at most {limit}.", re_too_long: "Too long.",
    re_too_long__limit: "Too long: at most {limit} characters.", re_too_long__field: "{field} is too long: at most {limit} characters.",
    re_too_many: "There are too many already.", re_unauthorized: "Your sign-in has expired; sign in again.",
    re_unavailable: "The service is busy or restarting; try again shortly.",
    re_undeliverable: "It cannot be sent to this customer now.", re_unknown_conversation: "No such conversation.",
    re_unknown_media: "No such file.", re_unknown_type: "This server does not know that request.",
    re_unsupported_media_type: "This kind of file is not allowed here.",
    re_unsupported_media_type__mime: "This kind of file ({mime}) is not allowed here.", re_url_refused: "That address is not allowed.",
    re_weak_password: "The password is too weak.", re_weak_password__short: "A password needs at least {limit} characters.",
    re_weak_password__long: "A password may have at most {limit} characters.",
    re_weak_password__common: "That password is too easy to guess.", re_wrong_code: "That code is not right.",
    re_target_merged: "The other customer was merged already.", re_conversation_is_closed: "The conversation is closed.",
    re_until_in_the_past: "That time is in the past.", re_same_customer: "That is the same customer.",
    re_unknown_agent: "No such agent.", re_already_answered: "It was answered already.",
    re_agent_disabled: "That account is disabled.", re_unknown_customer: "No such customer.",
    re_missing_transfer_id: "The transfer had no id.", re_unknown_target: "No such agent or pool.",
    re_already_merged: "It was merged already.", re_unknown_pool: "No such pool.", re_unknown_approval: "No such approval.",
    re_already_assigned_to_: "It is already with {value}.",
    re_cannot_close_a_conversation_in_state_: "A conversation that is {value} cannot be closed.",
    re_cannot_transfer_in_state_: "A conversation that is {value} cannot be transferred.",
  },
  zh: {
    re_fallback: "操作未完成（代码 {code}）",
    re_field_text: "消息", re_field_comment: "评价", re_field_name: "名称",
    re_field_contact: "联系方式", re_field_message: "留言", re_field_note: "备注",
    re_field_reason: "原因", re_field_password: "密码", re_field_q: "搜索词",
    re_field_id: "账号", re_field_role: "角色", re_field_pools: "客服组", re_field_skills: "技能",
    re_field_max_chats: "接待上限", re_bad_request__field: "请检查{field}", re_bad_request__unknown_pool: "没有客服组 {value}",
    re_already_closed: "会话已经结束了", re_already_rated: "已经评价过了",
    re_archive_unavailable: "历史存档暂时无法访问，请稍后再试",
    re_bad_frame: "请求格式不正确", re_bad_json: "请求内容格式不正确",
    re_bad_multipart: "上传内容格式不正确", re_bad_query: "搜索或筛选条件不正确",
    re_bad_rating: "评分须为 1 到 5", re_bad_request: "请求不正确",
    re_bad_state: "登录超时或被中断，请重新登录",
    re_busy: "客服组同时被他人修改，请再试一次", re_closed: "会话已结束",
    re_compliance_blocked: "未发送：内容含有敏感词",
    re_enrol_2fa: "请先设置两步验证", re_exists: "已经存在",
    re_forbidden: "您的角色无权执行此操作", re_from_config: "此项来自配置文件，请在配置文件中修改",
    re_internal: "服务器出错，稍后会自动重试",
    re_invalid_document: "文档有问题", re_invalid_file: "文件无效",
    re_invalid_form: "表单有问题", re_invalid_media: "文件为空、已损坏或无法读取",
    re_invalid_pool: "客服组设置有问题", re_invalid_rules: "规则有问题",
    re_locked: "登录失败次数过多，账号暂时锁定",
    re_locked__wait: "登录失败次数过多，请 {retry_after} 秒后再试",
    re_merged: "该客户已合并到另一位客户", re_no_agent: "没有这位客服",
    re_no_enrolment: "尚未开始设置两步验证", re_no_model: "未配置语言模型",
    re_no_order_service: "未配置订单服务", re_not_assigned_to_you: "这个会话不归您处理",
    re_not_closed: "会话尚未结束", re_not_configured: "服务器未配置此功能",
    re_not_found: "未找到", re_not_merged: "该客户未被合并",
    re_nothing_to_answer: "暂时没有需要回复的内容", re_oidc_unavailable: "单点登录暂时不可用",
    re_orders_unavailable: "订单服务没有响应", re_otp_required: "请输入两步验证码",
    re_own_conversation: "这是您自己的会话", re_precondition_required: "请先刷新，再修改",
    re_rate_limited: "操作太频繁，请稍后再试", re_rate_limited__wait: "操作太频繁，请 {retry_after} 秒后再试",
    re_slow_down: "登录尝试太频繁，请稍等", re_slow_down__wait: "登录尝试太频繁，请 {retry_after} 秒后再试",
    re_stale_version: "其他人刚刚修改过，请刷新后重新修改",
    re_too_deep: "请求嵌套层级过深", re_too_large: "文件太大",
    re_too_large__limit: "文件太大：最大 {limit}", re_too_long: "内容太长",
    re_too_long__limit: "内容太长：最多 {limit} 个字", re_too_long__field: "{field}太长：最多 {limit} 个字",
    re_too_many: "数量已达上限", re_unauthorized: "登录已过期，请重新登录",
    re_unavailable: "服务繁忙或正在重启，请稍后再试",
    re_undeliverable: "现在无法发送给这位客户", re_unknown_conversation: "没有这个会话",
    re_unknown_media: "没有这个文件", re_unknown_type: "服务器不支持这个请求",
    re_unsupported_media_type: "这里不允许此类文件",
    re_unsupported_media_type__mime: "这里不允许此类文件（{mime}）", re_url_refused: "不允许使用这个地址",
    re_weak_password: "密码强度不够", re_weak_password__short: "密码至少需要 {limit} 个字符",
    re_weak_password__long: "密码最多 {limit} 个字符",
    re_weak_password__common: "这个密码太容易被猜到", re_wrong_code: "验证码不正确",
    re_target_merged: "另一位客户已被合并", re_conversation_is_closed: "会话已结束",
    re_until_in_the_past: "这个时间已经过去了", re_same_customer: "这是同一位客户",
    re_unknown_agent: "没有这位客服", re_already_answered: "已经处理过了",
    re_agent_disabled: "该账号已停用", re_unknown_customer: "没有这位客户",
    re_missing_transfer_id: "转接缺少编号", re_unknown_target: "没有这位客服或客服组",
    re_already_merged: "已经合并过了", re_unknown_pool: "没有这个客服组", re_unknown_approval: "没有这条审批",
    re_already_assigned_to_: "已经由 {value} 处理",
    re_cannot_close_a_conversation_in_state_: "当前状态（{value}）的会话不能结束",
    re_cannot_transfer_in_state_: "当前状态（{value}）的会话不能转接",
  },
});

// Codes a Lua script builds from a sentence and a value ("already assigned to bob").
const PREFIXES = ["already_assigned_to_", "cannot_close_a_conversation_in_state_", "cannot_transfer_in_state_"];
const STATES = { zh: { new: "刚开始", queued: "排队中", bot: "机器人接待", assigned: "处理中", closed: "已结束", waiting: "等待中" } };

const size = (n) => (n >= 1048576 ? `${Math.round(n / 104857.6) / 10} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} B`);

// The words for one refusal body or error frame; `fallback` when there is none at all.
export function refusalText(body, fallback = "") {
  const code = String(body?.error || body?.code || "");
  if (!code) return fallback;
  if (currentLang() === "en" && body.detail) return String(body.detail);
  const vars = { code, ...body };
  if (typeof body.limit === "number" && code === "too_large") vars.limit = size(body.limit);
  if (body.retry_after != null) vars.retry_after = Math.max(1, Math.ceil(Number(body.retry_after)));
  if (body.field && has(`re_field_${body.field}`)) vars.field = tf(`re_field_${body.field}`, {});
  const prefix = PREFIXES.find((p) => code.startsWith(p) && code.length > p.length);
  if (prefix) {
    const value = code.slice(prefix.length);
    return tf(`re_${prefix}`, { value: STATES[currentLang()]?.[value] ?? value });
  }
  const tries = [];
  if (body.rule) tries.push(`re_${code}__${body.rule}`);
  if (body.field && has(`re_field_${body.field}`)) tries.push(`re_${code}__field`);
  if (body.mime) tries.push(`re_${code}__mime`);
  if (body.limit != null) tries.push(`re_${code}__limit`);
  if (body.retry_after != null) tries.push(`re_${code}__wait`);
  tries.push(`re_${code}`);
  const key = tries.find((k) => has(k));
  return key ? tf(key, vars) : tf("re_fallback", vars);
}

// An answer with no refusal body (a proxy's 502, a page's 404) by its HTTP status alone.
export const statusText = (status) => tf("re_fallback", { code: currentLang() === "zh" ? status : `HTTP ${status}` });

// A caught error in the console's words: an HttpError's body, else its message (a network error).
export const refusal = (err) => refusalText(err?.body, err?.message || String(err));
