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
