// Rule-file problems (Validate, a refused Activate, the form's write) in the console's language.
// The server sends each problem's English `message` with a stable `code` and its `params`
// (routing_rules/problems.py lists every code); here each code has a template per language.
// The shop's values (rule names, pools, keys) and the YAML words a person types (`days`, `pool`)
// stay as written in <code class="v">. A problem without a code, or with a code this table does
// not know yet, shows the English message. The set-up documents' own codes (pools, hours, shifts,
// the FAQ, quick replies: router/config/problems.py) are worded in setup_problems.js as `lp_`
// entries; the codes they share with rules files are worded here, once.
import { el } from "./dom.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  en: {
    rp_line_l: "{line}:{col} (line {line}, column {col})", rp_kind_null: "nothing (null)", rp_kind_boolean: "a boolean", rp_kind_number: "a number",
    rp_kind_string: "a string", rp_kind_list: "a list", rp_kind_mapping: "a mapping",
    rp_kind_empty_string: "an empty string", rp_kind_empty_list: "an empty list",
    rp_kind_other: "another kind of value",
    rp_or: " or ", rp_did_you_mean: "; did you mean {suggestion}?", rp_known: "; known: {known}",
    rp_expected_one_of: "; expected one of {expected}",
    rp_yes_no: " (YAML reads `yes`, `no`, `on` and `off` as booleans; put the name in quotes)",
    rpw_rule_name: "rule name", rpw_rule_n: "rule #{n}", rpw_calendar_named: "calendar {name}",
    rpw_calendar_name: "calendar name", rpw_calendar: "calendar", rpw_customer_tag: "customer tag",
    rpw_fallback_step: "fallback step", rpw_intent: "intent", rpw_regex: "regex", rpw_segment: "segment",
    rpw_skill: "skill", rpw_pool: "pool", rpw_previous_pool: "previous pool",
    rpw_text_to_look_for: "text to look for", rpw_word_of_a_product_title: "word of a product title",
    rpw_sla_profile_name: "SLA profile name",
    rpw_rules_file: "the rules file", rpw_conditions_e_g_intent_refund_or_all_any_not: "conditions (e.g. `{intent: refund}`, or `all`/`any`/`not`)", rpw_hours_hh_mm_hh_mm: "hours (`HH:MM-HH:MM`)", rpw_time_window_hh_mm_hh_mm: "time window (`HH:MM-HH:MM`)",
    rpw_days_e_g_mon_fri_or_sat_sun: "days (e.g. `mon-fri` or `[sat, sun]`)",
    rpw_intent_lists_keywords_add_keywords_patterns: "intent lists (`keywords`, `add_keywords`, `patterns` ...)",
    rp_yaml_syntax: "YAML syntax: {problem}", rp_yaml_error: "YAML: {problem}",
    rp_yaml_mapping_values: "a key and value are not allowed here (often a colon in an unquoted value, or the indentation)",
    rp_yaml_bad_indent: "the indentation or the brackets do not match here",
    rp_yaml_bad_character: "a character that cannot start anything here (often a tab: indent with spaces)",
    rp_yaml_unclosed_list: "a `[...]` list is not closed: a `,` or `]` is missing",
    rp_yaml_unclosed_mapping: "a `{...}` mapping is not closed: a `,` or `}` is missing",
    rp_yaml_unexpected_end: "the file ends too early (often a quote that is not closed)",
    rp_yaml_bad_escape: "an unknown escape in a double-quoted string (write a backslash twice, or use single quotes)",
    rp_yaml_undefined_alias: "an alias (`*`) to an anchor that is not defined",
    rp_yaml_expected_colon: "a `:` is missing after a key",
    rp_yaml_expected_key: "a key was expected here (often the indentation)",
    rp_yaml_expected_dash: "a list item `-` was expected here (often the indentation)",
    rp_yaml_dash_not_allowed: "a list item `-` is not allowed here (a list starts on the line after its key)",
    rp_yaml_key_not_allowed: "a `?` key is not allowed here",
    rp_yaml_block_indicator: "after `|` or `>` only `-`, `+` or an indentation from 1 to 9 may follow; found {found}",
    rp_yaml_block_header: "after `|` or `>` the line must end (or hold a `#` comment); found {found}",
    rp_yaml_bad_hex_escape: "a `\\x`, `\\u` or `\\U` escape in a double-quoted string needs hexadecimal digits; found {found}",
    rp_yaml_quoted_separator: "a quoted text runs into a `---` line (often a quote that is not closed)",
    rp_yaml_expected_document_start: "a `---` line is expected after the `%` directives; found {found}",
    rp_yaml_bad_directive: "a `%` directive line that cannot be read at {found} (a rules file needs none: delete it)",
    rp_yaml_bad_tag: "a tag (`!`) that cannot be read at {found} (a rules file needs no tags: delete it)",
    rp_yaml_bad_anchor_name: "an anchor (`&`) or alias (`*`) needs a name of letters and digits; found {found}",
    rp_yaml_expected_value: "a value was expected here; found {found}",
    rp_yaml_multiple_documents: "the file holds more than one document: the `---` here starts a second one (keep one)",
    rp_yaml_duplicate_anchor: "an anchor (`&`) is defined twice; each anchor needs its own name",
    rp_yaml_recursive_alias: "an alias (`*`) points into the anchor it stands in",
    rp_yaml_tag_mismatch: "a tag (`!!str`, `!!seq`, `!!map`) that does not fit its value: {found}",
    rp_yaml_bad_binary: "a `!!binary` value that is not valid `base64`",
    rp_yaml_bad_pairs: "an `!!omap` or `!!pairs` value must be a list of one-key mappings",
    rp_yaml_unknown_tag: "an unknown tag at {found} (a rules file needs no tags: delete it)",
    rp_yaml_special_character: "a control character {found} is not allowed (delete it)",
    rp_yaml_bad_tagged_value: "the value {found} cannot be read as {tag}",
    rp_yaml_unreadable: "cannot read line {line}, column {col}: found {found}",
    rp_yaml_end_line: "the end of the line", rp_yaml_end_file: "the end of the file",
    rp_yaml_char_tab: "a tab", rp_yaml_char_space: "a space",
    rp_yaml_too_deep: "YAML nested too deeply", rp_yaml_merge_key: "YAML merge keys (<<) are not supported",
    rp_yaml_complex_key: "mapping keys must be plain scalars", rp_duplicate_key: "duplicate key {key}",
    rp_unknown_key: "unknown key {key}",
    rp_expected_mapping: "{what}: expected a mapping, got {got}",
    rp_expected_string: "{what}: expected a string, got {got}",
    rp_expected_strings: "{what}: expected a string or a list of strings, got {got}",
    rp_expected_boolean: "{what}: expected `true` or `false`, got {got}",
    rp_expected_integer: "{what}: expected an integer, got {got}",
    rp_unknown_name: "unknown {what} {name}",
    rp_unknown_timezone: "unknown timezone {name}; expected an IANA name such as `Asia/Shanghai` or `Europe/Berlin`",
    rp_bad_days: "`days`: {detail}", rp_bad_hours: "`hours`: {detail}", rp_bad_time: "`time`: {detail}",
    rp_closed_not_list: "`closed`: expected a list of dates (`YYYY-MM-DD`), got {got}",
    rp_closed_bad_date: "`closed`: expected a date as `YYYY-MM-DD`, got {value}",
    rp_bad_pattern: "{detail}",
    rp_intent_never_detected: "no keywords or patterns left: the intent could never be detected",
    rp_bad_intent_name: "intent name {name}: use lower case letters, digits and _",
    rp_missing_default: "missing `default`: the decision when no rule matches, e.g. `default: {pool: presale}`",
    rp_default_missing_pool: "`default`: missing `pool`",
    rp_bot_and_human: "give either `bot: true` or `human: true`, not both",
    rp_bad_priority: "`priority`: expected an integer or one of {names}, got {got} {value}",
    rp_min_level_range: "`min_level`: expected 1 to 5, got {level}",
    rp_fallback_not_list: "`fallback`: expected a list of steps like `{after: 60s, pool: general}`, got {got}",
    rp_bad_fallback_after: "`fallback` `after`: {detail}",
    rp_fallback_step_target: "fallback step: give either `pool: NAME` or `any_agent: true`",
    rp_fallback_order: "fallback steps must be in increasing order of `after`",
    rp_rules_not_list: "`rules`: expected a list of rules, got {got}",
    rp_duplicate_rule: "duplicate rule name {name} (first at line {line})",
    rp_missing_then: "rule {rule}: missing `then`",
    rp_continue_rule_key: "{field} in a continue rule: a continue rule only adds `tags` and `boost`; move it to a rule without `continue`",
    rp_not_mapping: "`not`: expected a mapping of conditions, got {got}",
    rp_combinator_list: "{field}: expected a non-empty list of conditions, got {got}",
    rp_empty_condition: "{field}: an empty condition is not allowed here",
    rp_message_count_bounds: "`message_count`: give `min`, `max` or both",
    rp_bad_message_count: "`message_count`: expected an integer, a quoted comparison like `\">= 3\"`, or `{min: N, max: M}`, got {got} {value}",
    rp_regex_backreference: "regex {pattern}: backreferences (`\\1`) are not supported by `re2`",
    rp_regex_named_group: "regex {pattern}: use `(?P<name>...)` for named groups",
    rp_regex_lookahead: "regex {pattern}: lookahead `(?=...)` is not supported by `re2`",
    rp_regex_negative_lookahead: "regex {pattern}: negative lookahead `(?!...)` is not supported by `re2`",
    rp_regex_lookbehind: "regex {pattern}: lookbehind `(?<=...)` / `(?<!...)` is not supported by `re2`",
    rp_regex_atomic_group: "regex {pattern}: atomic groups `(?>...)` are not supported by `re2`",
    rp_regex_nested_repetition: "regex {pattern}: nested repetition like `a{1000}{1000}` is not supported by `re2`",
    rp_regex_repetition_size: "regex {pattern}: the repetition count {found} is not supported by `re2` (at most 1000, the smaller number first)",
    rp_regex_bad_group: "regex {pattern}: `re2` does not know the group {found} (flags are written `(?i)`, `(?s)`, `(?m)`, `(?U)`; groups `(?:...)` or `(?P<name>...)`)",
    rp_regex_repeat_argument: "regex {pattern}: the repetition {found} has nothing before it to repeat (write `\\` before it to match the character itself)",
    rp_regex_missing_paren: "regex {pattern}: a `(` is not closed: a `)` is missing",
    rp_regex_missing_bracket: "regex {pattern}: a `[` is not closed: a `]` is missing",
    rp_regex_unexpected_paren: "regex {pattern}: a `)` without its `(`",
    rp_regex_trailing_backslash: "regex {pattern}: it ends with a lone `\\` (write `\\\\` to match a backslash)",
    rp_regex_bad_escape: "regex {pattern}: `re2` does not know the escape {found} (write `\\\\` to match a backslash)",
    rp_regex_bad_class_range: "regex {pattern}: the range or class {found} is not valid (the first character comes before the last; classes are written `[[:alpha:]]` or `\\pL`)",
    rp_regex_bad_class: "regex {pattern}: the character class {found} is not valid",
    rp_regex_bad_utf8: "regex {pattern}: not valid `UTF-8` text (often a `\\ud800`-like escape in a double-quoted string)",
    rp_regex_too_large: "regex {pattern}: too large for `re2` once compiled (use a smaller repetition count or a narrower class)",
    rp_regex_invalid: "invalid regex {pattern}: {raw} (checked with `re2`)",
    rp_time_format: "expected a time as `HH:MM`, got {value}",
    rp_time_range: "time {value} is out of range `00:00-24:00`",
    rp_window_format: "expected a window as `HH:MM-HH:MM`, got {value}",
    rp_window_empty: "window {value} is empty; use `00:00-24:00` for the whole day",
    rp_unknown_day: "unknown day {value}",
    rp_duration_format: "expected a duration like `60s`, `5m` or `1h`, got {got} {value}",
    rp_duration_negative: "a duration cannot be negative",
    rp_keyword_not_in_list: "keyword {keyword} is not in the list",
    rp_channel_near_miss: "channel {channel} is not a known channel; did you mean {suggestion}?",
    rp_shadowed_rule: "rule {rule} can never match: earlier rule {earlier} (line {line}) matches every message this rule matches",
    rp_shadowed_rule_always: "rule {rule} can never match: earlier rule {earlier} (line {line}) has no conditions and decides every message",
    rp_rules_file_not_mapping: "the rules file must be a mapping (`timezone`, `default`, `rules` ...)",
    rp_form_rules_not_list: "`rules`: expected a list of rules",
    rp_form_shape: "the form edits rules written one per `- name:` item: edit these in YAML",
    rp_form_rows_not_list: "the form's rows must be a list",
    rp_form_not_texts: "{key}: expected a list of texts", rp_form_one_line: "{key}: one line each",
    rp_form_row_not_object: "each rule must be an object", rp_form_unknown_field: "unknown field {key}",
    rp_form_bad_ref: "no rule #{ref} in the rules the form was read from",
    rp_form_ref_twice: "rule #{ref} appears twice in the form", rp_form_needs_name: "a rule needs a name (one line)",
    rp_form_expected_name: "{key}: expected a name", rp_form_bad_bot: "`bot`: expected `true`, `false` or nothing",
    rp_form_bad_priority: "`priority`: expected a whole number or one of {names}, got {value}",
  },
  zh: {
    rp_line_l: "{line}:{col}（第 {line} 行第 {col} 列）", rp_kind_null: "空值", rp_kind_boolean: "布尔值", rp_kind_number: "数字",
    rp_kind_string: "字符串", rp_kind_list: "列表", rp_kind_mapping: "映射（键值对）",
    rp_kind_empty_string: "空字符串", rp_kind_empty_list: "空列表", rp_kind_other: "其他类型的值",
    rp_or: "或", rp_did_you_mean: "；是不是想写 {suggestion}？", rp_known: "；已有：{known}",
    rp_expected_one_of: "；应为以下之一：{expected}",
    rp_yes_no: "（YAML 会把 `yes`、`no`、`on`、`off` 读作布尔值，名称请加引号）",
    rpw_rule_name: "规则名称", rpw_rule_n: "第 {n} 条规则", rpw_calendar_named: "日历 {name}",
    rpw_calendar_name: "日历名称", rpw_calendar: "日历", rpw_customer_tag: "客户标签",
    rpw_fallback_step: "兜底步骤", rpw_intent: "意图", rpw_regex: "正则表达式", rpw_segment: "客户分层",
    rpw_skill: "技能", rpw_pool: "技能组", rpw_previous_pool: "上次的技能组",
    rpw_text_to_look_for: "要查找的文字", rpw_word_of_a_product_title: "商品标题中的词",
    rpw_sla_profile_name: "SLA 方案名称",
    rpw_rules_file: "规则文件", rpw_conditions_e_g_intent_refund_or_all_any_not: "条件（如 `{intent: refund}`，或 `all`/`any`/`not`）", rpw_hours_hh_mm_hh_mm: "营业时间（`HH:MM-HH:MM`）", rpw_time_window_hh_mm_hh_mm: "时间段（`HH:MM-HH:MM`）",
    rpw_days_e_g_mon_fri_or_sat_sun: "星期（如 `mon-fri` 或 `[sat, sun]`）",
    rpw_intent_lists_keywords_add_keywords_patterns: "意图词表（`keywords`、`add_keywords`、`patterns` 等）",
    rp_yaml_syntax: "YAML 语法错误：{problem}", rp_yaml_error: "无法按 YAML 读取这个文件",
    rp_yaml_mapping_values: "这里不能写键值（常见原因：值里有未加引号的冒号，或缩进不对）",
    rp_yaml_bad_indent: "这里的缩进或括号对不上",
    rp_yaml_bad_character: "这里有不能出现的字符（常见的是制表符：缩进请用空格）",
    rp_yaml_unclosed_list: "`[...]` 列表没有闭合：缺少 `,` 或 `]`",
    rp_yaml_unclosed_mapping: "`{...}` 映射没有闭合：缺少 `,` 或 `}`",
    rp_yaml_unexpected_end: "文件提前结束（常见原因：引号没有闭合）",
    rp_yaml_bad_escape: "双引号字符串里有未知的转义（反斜杠请写两次，或改用单引号）",
    rp_yaml_undefined_alias: "引用（`*`）了未定义的锚点",
    rp_yaml_expected_colon: "键后面缺少 `:`",
    rp_yaml_expected_key: "这里应当是一个键（常见原因：缩进不对）",
    rp_yaml_expected_dash: "这里应当是列表项 `-`（常见原因：缩进不对）",
    rp_yaml_dash_not_allowed: "这里不能写列表项 `-`（列表要从键的下一行开始）",
    rp_yaml_key_not_allowed: "这里不能写 `?` 开头的键",
    rp_yaml_block_indicator: "`|` 或 `>` 后面只能跟 `-`、`+` 或 1 到 9 的缩进数字，这里是 {found}",
    rp_yaml_block_header: "`|` 或 `>` 之后这一行应当结束（或只写 `#` 注释），这里是 {found}",
    rp_yaml_bad_hex_escape: "双引号字符串里的 `\\x`、`\\u` 或 `\\U` 转义后面应是十六进制数字，这里是 {found}",
    rp_yaml_quoted_separator: "带引号的文字一直延续到了 `---` 行（常见原因：引号没有闭合）",
    rp_yaml_expected_document_start: "`%` 指令行之后应当有一行 `---`，这里是 {found}",
    rp_yaml_bad_directive: "无法读取的 `%` 指令行，位于 {found}（规则文件不需要指令行：请删除）",
    rp_yaml_bad_tag: "无法读取的标签（`!`），位于 {found}（规则文件不需要标签：请删除）",
    rp_yaml_bad_anchor_name: "锚点（`&`）或引用（`*`）需要由字母和数字组成的名称，这里是 {found}",
    rp_yaml_expected_value: "这里应当写一个值，却遇到 {found}",
    rp_yaml_multiple_documents: "文件里有多个文档：这里的 `---` 开始了第二个文档（只能保留一个）",
    rp_yaml_duplicate_anchor: "同一个锚点（`&`）定义了两次，每个锚点的名称必须不同",
    rp_yaml_recursive_alias: "引用（`*`）指向了包含它自己的锚点",
    rp_yaml_tag_mismatch: "标签（`!!str`、`!!seq`、`!!map`）与它的值不符：{found}",
    rp_yaml_bad_binary: "`!!binary` 的值不是有效的 `base64` 编码",
    rp_yaml_bad_pairs: "`!!omap` 或 `!!pairs` 的值必须是每项只有一个键的列表",
    rp_yaml_unknown_tag: "未知的标签，位于 {found}（规则文件不需要标签：请删除）",
    rp_yaml_special_character: "不允许出现控制字符 {found}（请删除）",
    rp_yaml_bad_tagged_value: "值 {found} 无法按 {tag} 读取",
    rp_yaml_unreadable: "第 {line} 行第 {col} 列无法读取：遇到 {found}",
    rp_yaml_end_line: "行尾", rp_yaml_end_file: "文件末尾",
    rp_yaml_char_tab: "制表符", rp_yaml_char_space: "空格",
    rp_yaml_too_deep: "YAML 嵌套层数过多", rp_yaml_merge_key: "不支持 YAML 合并键（<<）",
    rp_yaml_complex_key: "映射的键必须是简单的值", rp_duplicate_key: "重复的键 {key}",
    rp_unknown_key: "未知的键 {key}",
    rp_expected_mapping: "{what}：应为映射（键值对），实际是{got}",
    rp_expected_string: "{what}：应为字符串，实际是{got}",
    rp_expected_strings: "{what}：应为字符串或字符串列表，实际是{got}",
    rp_expected_boolean: "{what}：应为 `true` 或 `false`，实际是{got}",
    rp_expected_integer: "{what}：应为整数，实际是{got}",
    rp_unknown_name: "未知的{what} {name}",
    rp_unknown_timezone: "未知的时区 {name}；应为标准时区名，例如 `Asia/Shanghai` 或 `Europe/Berlin`",
    rp_bad_days: "`days`：{detail}", rp_bad_hours: "`hours`：{detail}", rp_bad_time: "`time`：{detail}",
    rp_closed_not_list: "`closed`：应为日期列表（`YYYY-MM-DD`），实际是{got}",
    rp_closed_bad_date: "`closed`：日期应写作 `YYYY-MM-DD`，实际是 {value}",
    rp_bad_pattern: "{detail}",
    rp_intent_never_detected: "关键词和正则都已清空：这个意图永远不会被识别",
    rp_bad_intent_name: "意图名称 {name}：只能用小写字母、数字和下划线",
    rp_missing_default: "缺少 `default`：没有规则匹配时的分配，例如 `default: {pool: presale}`",
    rp_default_missing_pool: "`default`：缺少 `pool`",
    rp_bot_and_human: "`bot: true` 和 `human: true` 只能写一个",
    rp_bad_priority: "`priority`：应为整数或 {names} 之一，实际是{got} {value}",
    rp_min_level_range: "`min_level`：应为 1 到 5，实际是 {level}",
    rp_fallback_not_list: "`fallback`：应为步骤列表，例如 `{after: 60s, pool: general}`，实际是{got}",
    rp_bad_fallback_after: "`fallback` 的 `after`：{detail}",
    rp_fallback_step_target: "兜底步骤：`pool: NAME` 和 `any_agent: true` 必须且只能写一个",
    rp_fallback_order: "兜底步骤必须按 `after` 从小到大排列",
    rp_rules_not_list: "`rules`：应为规则列表，实际是{got}",
    rp_duplicate_rule: "规则名称 {name} 重复（第一次出现在第 {line} 行）",
    rp_missing_then: "规则 {rule}：缺少 `then`",
    rp_continue_rule_key: "继续匹配的规则里不能写 {field}：这种规则只能添加 `tags` 和 `boost`；请移到没有 `continue` 的规则",
    rp_not_mapping: "`not`：应为条件的映射，实际是{got}",
    rp_combinator_list: "{field}：应为非空的条件列表，实际是{got}",
    rp_empty_condition: "{field}：这里不能有空条件",
    rp_message_count_bounds: "`message_count`：请给出 `min`、`max` 或两者",
    rp_bad_message_count: "`message_count`：应为整数、加引号的比较（如 `\">= 3\"`）或 `{min: N, max: M}`，实际是{got} {value}",
    rp_regex_backreference: "正则 {pattern}：`re2` 不支持反向引用（`\\1`）",
    rp_regex_named_group: "正则 {pattern}：命名分组请写作 `(?P<name>...)`",
    rp_regex_lookahead: "正则 {pattern}：`re2` 不支持向前查找 `(?=...)`",
    rp_regex_negative_lookahead: "正则 {pattern}：`re2` 不支持否定向前查找 `(?!...)`",
    rp_regex_lookbehind: "正则 {pattern}：`re2` 不支持向后查找 `(?<=...)` / `(?<!...)`",
    rp_regex_atomic_group: "正则 {pattern}：`re2` 不支持原子分组 `(?>...)`",
    rp_regex_nested_repetition: "正则 {pattern}：`re2` 不支持嵌套重复，例如 `a{1000}{1000}`",
    rp_regex_repetition_size: "正则 {pattern}：`re2` 不支持重复次数 {found}（最多 1000，且小的数在前）",
    rp_regex_bad_group: "正则 {pattern}：`re2` 不认识分组 {found}（标志写作 `(?i)`、`(?s)`、`(?m)`、`(?U)`，分组写作 `(?:...)` 或 `(?P<name>...)`）",
    rp_regex_repeat_argument: "正则 {pattern}：重复符号 {found} 前面没有可重复的内容（要匹配这个字符本身，请在前面加 `\\`）",
    rp_regex_missing_paren: "正则 {pattern}：`(` 没有闭合，缺少 `)`",
    rp_regex_missing_bracket: "正则 {pattern}：`[` 没有闭合，缺少 `]`",
    rp_regex_unexpected_paren: "正则 {pattern}：多了一个没有对应 `(` 的 `)`",
    rp_regex_trailing_backslash: "正则 {pattern}：以单独的 `\\` 结尾（要匹配反斜杠请写 `\\\\`）",
    rp_regex_bad_escape: "正则 {pattern}：`re2` 不认识转义 {found}（要匹配反斜杠请写 `\\\\`）",
    rp_regex_bad_class_range: "正则 {pattern}：范围或字符类 {found} 无效（起始字符须在结束字符之前；字符类写作 `[[:alpha:]]` 或 `\\pL`）",
    rp_regex_bad_class: "正则 {pattern}：字符类 {found} 无效",
    rp_regex_bad_utf8: "正则 {pattern}：不是有效的 `UTF-8` 文本（常见原因：双引号字符串里的 `\\ud800` 这类转义）",
    rp_regex_too_large: "正则 {pattern}：编译后超出 `re2` 的大小上限（请减小重复次数，或用更窄的字符类）",
    rp_regex_invalid: "正则 {pattern} 无效（由 `re2` 检查）",
    rp_time_format: "时间应写作 `HH:MM`，实际是 {value}",
    rp_time_range: "时间 {value} 超出 `00:00-24:00` 的范围",
    rp_window_format: "时间段应写作 `HH:MM-HH:MM`，实际是 {value}",
    rp_window_empty: "时间段 {value} 是空的；全天请写 `00:00-24:00`",
    rp_unknown_day: "未知的星期 {value}",
    rp_duration_format: "时长应写作 `60s`、`5m` 或 `1h`，实际是{got} {value}",
    rp_duration_negative: "时长不能是负数",
    rp_keyword_not_in_list: "关键词 {keyword} 不在列表中",
    rp_channel_near_miss: "渠道 {channel} 不是已知渠道；是不是想写 {suggestion}？",
    rp_shadowed_rule: "规则 {rule} 永远不会匹配：前面的规则 {earlier}（第 {line} 行）已匹配它能匹配的所有消息",
    rp_shadowed_rule_always: "规则 {rule} 永远不会匹配：前面的规则 {earlier}（第 {line} 行）没有条件，所有消息都由它决定",
    rp_rules_file_not_mapping: "规则文件必须是映射（`timezone`、`default`、`rules` 等）",
    rp_form_rules_not_list: "`rules`：应为规则列表",
    rp_form_shape: "表单只能编辑逐条以 `- name:` 书写的规则：请在文本中编辑这些规则",
    rp_form_rows_not_list: "表单的规则行必须是列表",
    rp_form_not_texts: "{key}：应为文字列表", rp_form_one_line: "{key}：每项只能一行",
    rp_form_row_not_object: "每条规则必须是一个对象", rp_form_unknown_field: "未知的字段 {key}",
    rp_form_bad_ref: "表单读取的规则中没有第 {ref} 条",
    rp_form_ref_twice: "第 {ref} 条规则在表单中出现了两次", rp_form_needs_name: "规则需要一个名称（一行）",
    rp_form_expected_name: "{key}：应为名称", rp_form_bad_bot: "`bot`：应为 `true`、`false` 或留空",
    rp_form_bad_priority: "`priority`：应为整数或 {names} 之一，实际是 {value}",
  },
});

const v = (x) => el("code", "v", String(x));
const has = (key) => t(key) !== key;

function list(values) {
  const out = [];
  for (const x of values || []) out.push(...(out.length ? [t("r_list")] : []), v(x));
  return out;
}

// The field a reader names: a phrase from the table, else the YAML key as written.
function what(label) {
  const s = String(label);
  let m = s.match(/^rule #(\d+)$/);
  if (m) return words("rpw_rule_n", { n: m[1] });
  m = s.match(/^calendar '(.*)'$/);
  if (m) return words("rpw_calendar_named", { name: v(m[1]) });
  const key = `rpw_${s.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "")}`;
  return has(key) ? words(key, {}) : [v(s)];
}

// A template's {slots} filled from `vars` and its `quoted` YAML words as values.
function words(key, vars) {
  const out = [];
  t(key).split(/(\{\w+\}|`[^`]+`)/).forEach((part) => {
    if (!part) return;
    if (part.startsWith("`")) { out.push(v(part.slice(1, -1))); return; }
    const slot = part.match(/^\{(\w+)\}$/);
    if (!slot) { out.push(part); return; }
    const x = vars[slot[1]] ?? []; // a value the problem does not have (a duration given as true)
    out.push(...(Array.isArray(x) ? x : [x]));
  });
  return out;
}

const PLAIN = new Set(["line", "col", "level", "n", "limit", "first"]);
const TEXT = new Set(["detail", "problem", "raw"]); // the engine's or PyYAML's own words, not the shop's

function slots(params) {
  const out = {};
  for (const [k, x] of Object.entries(params || {})) {
    if (k === "got") out.got = [t(`rp_kind_${x}`)];
    else if (k === "kinds") out.kinds = [(x || []).map((kind) => t(`rp_kind_${kind}`)).join(t("rp_or"))];
    else if (k === "noun") out.noun = [t(`lpn_${x}`)];
    // What stands where YAML stopped, when it is not text to show as written.
    else if (k === "end") out.found = [t(`rp_yaml_end_${x}`)];
    else if (k === "found_char") out.found = [t(`rp_yaml_char_${x}`)];
    else if (k === "what") out.what = what(x);
    else if (Array.isArray(x)) out[k] = list(x);
    else if (PLAIN.has(k) || TEXT.has(k)) out[k] = [String(x)];
    else out[k] = [v(x)];
  }
  // Why a day, time window or duration was refused, worded too when the table knows it.
  // So is what a YAML syntax error is, in place of PyYAML's words.
  // A YAML reason this table does not know yet (a newer server) still gets words, not PyYAML's.
  const reason = params?.reason && (has(`rp_${params.reason}`) ? `rp_${params.reason}`
    : params.reason.startsWith("yaml_") && params.line ? "rp_yaml_unreadable" : "");
  if (reason) {
    out.detail = words(reason, out);
    out.problem = words(reason, out);
  }
  return out;
}

// The problem as nodes (text and <code class="v">), in the console's language.
export function problemNodes(p) {
  const params = p.params || {};
  let key = has(`rp_${p.code}`) ? `rp_${p.code}` : `lp_${p.code}`;
  if (p.code === "shadowed_rule" && params.always) key = "rp_shadowed_rule_always";
  if (!p.code || !has(key)) return [p.message];
  const vars = slots(params);
  const out = words(key, vars);
  if (params.suggestion !== undefined && p.code !== "channel_near_miss") out.push(...words("rp_did_you_mean", vars));
  else if (params.known?.length) out.push(...words("rp_known", vars));
  else if (params.expected?.length) out.push(...words("rp_expected_one_of", vars));
  if (params.yes_no) out.push(...words("rp_yes_no", vars));
  return out;
}

// The same as one line of text, for a tooltip.
export const problemText = (p) => problemNodes(p).map((n) => (typeof n === "string" ? n : n.textContent)).join("");
