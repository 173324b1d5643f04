// UI strings for the widget, Chinese or English by the browser's language (strings in i18n.json).
export function pickLanguage(tag) {
  return String(tag || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export async function loadStrings(lang) {
  const r = await fetch("/static/i18n.json", { cache: "no-cache" });
  const all = await r.json();
  return all[lang] || all.zh;
}

// "{name} is typing" with {name} filled in; values are inserted as text, never as markup.
export function fmt(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (_, k) => (k in values ? String(values[k]) : `{${k}}`));
}

// Fill every [data-i18n], [data-i18n-label] and [data-i18n-placeholder] under `root`.
export function applyStrings(root, T) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = T[el.dataset.i18n] ?? el.textContent;
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", T[el.dataset.i18nLabel]);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = T[el.dataset.i18nPlaceholder];
  root.documentElement.lang = T.lang;
}

const size = (n) => (n >= 1048576 ? `${Math.round(n / 104857.6) / 10} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} B`);

// A refusal (an error frame {code, detail, ...} or a JSON answer {error, detail, ...}) in the
// widget's language: English keeps the server's detail; Chinese words the code with the values
// sent beside it (limit, retry_after) and never shows the English detail, falling back to
// "发送未成功（代码 X）". tests/router/test_refusal_wording.py checks the table has every code.
export function refusalText(T, body, fallback = "") {
  const code = String(body?.error || body?.code || "");
  if (!code) return fallback;
  if (T.lang === "en" && body.detail) return String(body.detail);
  const vars = { ...body, code };
  if (typeof body.limit === "number" && code === "too_large") vars.limit = size(body.limit);
  if (body.retry_after != null) vars.retry_after = Math.max(1, Math.ceil(Number(body.retry_after)));
  const tries = [body.mime && `re_${code}__mime`, body.limit != null && `re_${code}__limit`,
    body.retry_after != null && `re_${code}__wait`, `re_${code}`];
  const key = tries.find((k) => k && k in T);
  return fmt(T[key || "re_fallback"], vars);
}
