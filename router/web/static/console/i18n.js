// UI strings in English and Chinese. The language follows the browser unless the agent picks one.
const STRINGS = {
  en: {
    open_photo: "Open the photo", photo: "Photo", file: "File", handed_photo: "The bot handed over this photo:",
    uploading: "Upload progress", upload_failed: "Upload failed", retry: "Retry", attach: "Attach a photo or file", attach_short: "Attach",
    zoom_in: "Zoom in", zoom_out: "Zoom out", zoom_fit: "Actual size", download: "Download", close_photo: "Close",
    title: "kefu console", signin: "Sign in", token: "Agent token", bad_token: "That token was not accepted.",
    inbox: "Inbox", supervisor: "Supervisor", rules: "Rules", team: "Team", status: "Status",
    online: "online", away: "away", offline: "offline, reconnecting…", connecting: "connecting…", sign_out: "Sign out",
    help: "Keyboard shortcuts", no_conv: "No conversation selected.", queue: "Conversations",
    empty_queue: "Nothing waiting. New chats appear here.", reply: "Reply", send: "Send",
    placeholder: "Reply… Enter sends, Shift+Enter new line, / quick replies",
    transfer: "Transfer", close: "Close", discount: "Discount", faq: "FAQ",
    waiting: "waiting", sla_left: "SLA", sla_breached: "SLA breached", sla_met: "SLA met",
    vip: "VIP", unread: "unread", customer: "Customer", why: "Why this chat came to me", orders: "Orders",
    history: "History across channels", quota: "WeChat replies left", window_ends: "window ends",
    no_orders: "No orders.", no_history: "No earlier conversations.", typing: "Customer is typing…",
    sending: "sending", sent: "sent", failed: "failed", queued_send: "queued until reconnected",
    pool: "Pool", rule: "Rule", version: "Rules version", policy: "Policy", chosen: "Chosen",
    candidates: "Candidates", agent: "Agent", eligible: "Eligible", reason: "Reason", load: "Load",
    to_agent: "To agent", to_pool: "Or to pool", note: "Note for the next agent", cancel: "Cancel",
    resolution: "Resolution", amount: "Amount (CNY)", discount_reason: "Why the customer should get it",
    request: "Request approval", compliance: "Check before sending:", blocked: "Not sent: remove the flagged words.",
    qr_none: "No quick reply matches.", faq_search: "Search the FAQ", insert: "Insert",
    pools: "Pools", queued: "Queued", longest_wait: "Longest wait", agents: "Agents", cap: "Cap",
    breaches: "SLA breaches", take_over: "Take over", approvals: "Discount approvals", approve: "Approve",
    deny: "Deny", all_convs: "Open conversations", none: "None.", save: "Save", saved: "Saved.",
    cap_config: "config {n}", cap_reset: "Use config",
    validate: "Validate", explain: "Explain", replay: "Replay", activate: "Activate", versions: "Versions",
    rollback: "Roll back to this version", test_message: "Test message", channel: "Channel",
    valid: "No problems.", activated: "Activated version", rolled_back: "Rolled back; now version",
    stale: "Someone activated another version meanwhile; reload it first.", rules_source: "Routing rules",
    no_problems: "", diff: "Changes from the version before", unavailable: "Not available on this server yet.",
    approval_answer: "Discount", approved: "approved", rejected: "rejected", pending: "pending",
    st_online: "online", st_away: "away", st_offline: "offline", updated: "Last activity", approval_note: "Note to the agent", bot: "Bot",
    unknown_q: "Questions the bot could not answer", deflection: "Deflection", bot_convs: "conversations",
    resolved_by_bot: "resolved by the bot", handed_off: "handed to a person",
    res_resolved: "Resolved", res_order_issue: "Order issue", res_refund: "Refund or return",
    res_presale_question: "Pre-sale question", res_no_response: "Customer stopped answering",
    res_spam: "Spam", res_duplicate: "Duplicate", name: "Name", segment: "Segment", tags: "Tags",
    new_chat: "New conversation", language: "中文", taken: "Conversation taken over.",
    transferred: "Transferred.", closed: "Closed.", visitor: "Visitor", reload: "Reload active rules", author: "by",
  },
  zh: {
    open_photo: "查看图片", photo: "图片", file: "文件", handed_photo: "机器人转交的图片：",
    uploading: "上传进度", upload_failed: "上传失败", retry: "重试", attach: "发送图片或文件", attach_short: "附件",
    zoom_in: "放大", zoom_out: "缩小", zoom_fit: "原始大小", download: "下载", close_photo: "关闭",
    title: "客服工作台", signin: "登录", token: "坐席令牌", bad_token: "令牌无效。",
    inbox: "会话", supervisor: "主管", rules: "路由规则", team: "团队", status: "状态",
    online: "在线", away: "离开", offline: "已断开，正在重连…", connecting: "连接中…", sign_out: "退出",
    help: "快捷键", no_conv: "未选择会话。", queue: "会话列表",
    empty_queue: "暂无等待的会话，新会话会显示在这里。", reply: "回复", send: "发送",
    placeholder: "输入回复… Enter 发送，Shift+Enter 换行，/ 快捷回复",
    transfer: "转接", close: "结束", discount: "申请优惠", faq: "知识库",
    waiting: "等待", sla_left: "时效", sla_breached: "已超时", sla_met: "已达标",
    vip: "VIP", unread: "未读", customer: "客户", why: "分配原因", orders: "订单",
    history: "跨渠道历史", quota: "微信剩余回复数", window_ends: "窗口截止",
    no_orders: "暂无订单。", no_history: "没有更早的会话。", typing: "客户正在输入…",
    sending: "发送中", sent: "已送达", failed: "发送失败", queued_send: "重连后发送",
    pool: "队列", rule: "规则", version: "规则版本", policy: "策略", chosen: "选中",
    candidates: "候选坐席", agent: "坐席", eligible: "可分配", reason: "原因", load: "负载",
    to_agent: "转给坐席", to_pool: "或转给队列", note: "给下一位坐席的备注", cancel: "取消",
    resolution: "结束原因", amount: "金额（元）", discount_reason: "申请理由",
    request: "提交审批", compliance: "发送前请检查：", blocked: "未发送：请删除标出的词语。",
    qr_none: "没有匹配的快捷回复。", faq_search: "搜索知识库", insert: "插入",
    pools: "队列", queued: "排队", longest_wait: "最长等待", agents: "坐席", cap: "上限",
    breaches: "超时会话", take_over: "接管", approvals: "优惠审批", approve: "批准",
    deny: "拒绝", all_convs: "进行中的会话", none: "无。", save: "保存", saved: "已保存。",
    cap_config: "配置 {n}", cap_reset: "恢复配置",
    validate: "校验", explain: "试算", replay: "回放", activate: "发布", versions: "版本",
    rollback: "回滚到此版本", test_message: "测试消息", channel: "渠道",
    valid: "没有问题。", activated: "已发布版本", rolled_back: "已回滚，当前版本",
    stale: "他人已发布了新版本，请先重新加载。", rules_source: "路由规则",
    no_problems: "", diff: "与上一版本的差异", unavailable: "此服务器暂不支持。",
    approval_answer: "优惠", approved: "已批准", rejected: "已拒绝", pending: "待审批",
    st_online: "在线", st_away: "离开", st_offline: "离线", updated: "最近活动", approval_note: "给坐席的备注", bot: "机器人",
    unknown_q: "机器人未能回答的问题", deflection: "拦截率", bot_convs: "会话",
    resolved_by_bot: "机器人解决", handed_off: "转人工",
    res_resolved: "已解决", res_order_issue: "订单问题", res_refund: "退款退货",
    res_presale_question: "售前咨询", res_no_response: "客户未回复",
    res_spam: "垃圾消息", res_duplicate: "重复会话", name: "姓名", segment: "客户分层", tags: "标签",
    new_chat: "新会话", language: "English", taken: "已接管会话。",
    transferred: "已转接。", closed: "已结束。", visitor: "访客", reload: "重新加载当前规则", author: "作者",
  },
};

let lang = localStorage.getItem("kefu.lang") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");

export const t = (key) => STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
export const currentLang = () => lang;

export function setLang(next) {
  lang = next;
  localStorage.setItem("kefu.lang", next);
  applyI18n(document);
}

// Elements name their string in data-i18n (text), data-i18n-label (aria-label) or data-i18n-ph.
export function applyI18n(root) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const e of root.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll("[data-i18n-label]")) e.setAttribute("aria-label", t(e.dataset.i18nLabel));
  for (const e of root.querySelectorAll("[data-i18n-ph]")) e.placeholder = t(e.dataset.i18nPh);
}
