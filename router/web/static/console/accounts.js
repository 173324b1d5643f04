// Signing in (id + password + code, an agent token, or the shop's identity provider), setting up
// two-factor sign-in with the QR code the server draws, and the agent's own account: password and
// API keys. The server checks every call; this only asks and shows.
import { $, api, clock, el, toast } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";
import { refusal as refused } from "./refusals.js";

addStrings({
  en: {
    signin_id: "Agent ID", password: "Password", otp: "Code from your authenticator app",
    use_token: "Or sign in with an agent token",
    bad_login: "Wrong ID or password.", bad_otp: "Wrong or already used code.", need_otp: "Enter the code from your authenticator app.",
    slow_down: "Too many failed sign-ins. Try again in {s} s.", locked: "Locked after too many failed sign-ins. Try again in {s} s.",
    disabled: "This account is disabled.", sso: "Sign in with {label}",
    enrol_title: "Set up two-factor sign-in", enrol_secret: "Or type the key by hand —", enrol_confirm: "Confirm",
    enrol_text: "Scan the QR code with an authenticator app, then enter the code it shows.",
    enrol_start: "Set up two-factor sign-in", enrol_again: "Set up again", enrol_done: "Two-factor sign-in is on.",
    twofa_on: "Two-factor sign-in: on", twofa_off: "Two-factor sign-in: off", twofa_required: "(required for your role)",
    qr_alt: "QR code for your authenticator app",
    my_account: "My account", old_password: "Current password", new_password: "New password",
    change_password: "Change password", password_changed: "Password changed. Other sign-ins with the old one have ended.",
    api_keys: "API keys", key_label: "Label", key_create: "Create a key", key_revoke: "Revoke",
    key_shown_once: "Your new key (shown this once; copy it now): {key}", key_none: "No API keys.",
    key_row: "{label} · {role} · made {made} · last used {used}", never: "never",
  },
  zh: {
    signin_id: "坐席账号", password: "密码", otp: "验证器应用中的动态码",
    use_token: "或使用坐席令牌登录",
    bad_login: "账号或密码错误。", bad_otp: "动态码错误或已使用。", need_otp: "请输入验证器应用中的动态码。",
    slow_down: "登录失败次数过多，请 {s} 秒后再试。", locked: "登录失败次数过多，账号已锁定，请 {s} 秒后再试。",
    disabled: "此账号已停用。", sso: "使用 {label} 登录",
    enrol_title: "设置两步验证", enrol_secret: "或手动输入密钥 —", enrol_confirm: "确认",
    enrol_text: "请用验证器应用扫描二维码，然后输入应用显示的动态码。",
    enrol_start: "设置两步验证", enrol_again: "重新设置", enrol_done: "两步验证已开启。",
    twofa_on: "两步验证：已开启", twofa_off: "两步验证：未开启", twofa_required: "（您的角色必须开启）",
    qr_alt: "验证器应用的二维码",
    my_account: "我的账号", old_password: "当前密码", new_password: "新密码",
    change_password: "修改密码", password_changed: "密码已修改，使用旧密码的其他登录已失效。",
    api_keys: "API 密钥", key_label: "名称", key_create: "创建密钥", key_revoke: "吊销",
    key_shown_once: "新密钥（仅显示这一次，请立即复制）：{key}", key_none: "暂无 API 密钥。",
    key_row: "{label} · {role} · 创建于 {made} · 最近使用 {used}", never: "从未",
  },
});

let tokenMode = false;

function refusal(err) {
  const code = err.body?.error;
  const s = err.body?.retry_after ?? "";
  if (code === "slow_down") return tf("slow_down", { s });
  if (code === "locked") return tf("locked", { s });
  if (code === "otp_required") return t("need_otp");
  if (err.status === 403) return t("disabled");
  if (err.status === 401 && !$("signin-otp-row").hidden) return t("bad_otp");
  return tokenMode ? t("bad_token") : t("bad_login");
}

export function focusSignIn() {
  $("signin-id").focus();
}

// `enter(agent)` opens the console; a role that requires two-factor sign-in enrols first.
export function initSignIn(enter) {
  $("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("signin-error").textContent = "";
    tokenMode = $("token").value.trim() !== ""; // a token, when given, is what signs in
    try {
      const data = tokenMode
        ? await api("/api/v1/session", { method: "POST", body: { token: $("token").value.trim() } })
        : await api("/api/v1/login", { method: "POST", body: {
          id: $("signin-id").value.trim(), password: $("signin-pass").value,
          ...($("signin-otp").value.trim() ? { otp: $("signin-otp").value.trim() } : {}) } });
      for (const id of ["token", "signin-pass", "signin-otp"]) $(id).value = "";
      $("signin-otp-row").hidden = true;
      if (data.pending === "enrol") await enrol(() => enter(data.agent));
      else enter(data.agent);
    } catch (err) {
      if (err.body?.error === "otp_required") { $("signin-otp-row").hidden = false; $("signin-otp").focus(); }
      $("signin-error").textContent = refusal(err);
    }
  });
  $("enrol").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("enrol-error").textContent = "";
    try {
      await api("/api/v1/account/totp/confirm", { method: "POST", body: { otp: $("enrol-otp").value.trim() } });
      $("enrol-otp").value = "";
      $("enrol").hidden = true;
      toast(t("enrol_done"));
      const done = enrolDone;
      enrolDone = null;
      done?.();
    } catch (err) {
      $("enrol-error").textContent = refused(err);
    }
  });
  api("/api/v1/login/options").then((o) => {
    if (!o.oidc) return;
    const sso = $("signin-sso");
    sso.textContent = tf("sso", { label: o.oidc.label });
    sso.hidden = false;
    sso.addEventListener("click", () => { location.href = "/api/v1/oidc/start"; });
  }, () => {});
}

let enrolDone = null;

// Show the QR code and wait for a code; `done` runs once it is confirmed.
export async function enrol(done) {
  const made = await api("/api/v1/account/totp", { method: "POST" });
  const img = el("img", "", undefined, { src: `data:image/svg+xml;base64,${btoa(made.qr_svg)}`, alt: t("qr_alt"), width: "180" });
  $("enrol-qr").replaceChildren(img);
  $("enrol-secret").textContent = made.secret;
  enrolDone = done;
  $("signin").hidden = true;
  $("app").hidden = true;
  $("enrol").hidden = false;
  $("enrol-otp").focus();
}

export async function loadAccount() {
  let me;
  try {
    me = await api("/api/v1/account");
  } catch {
    return;
  }
  const tf2 = me.two_factor;
  $("account-2fa").textContent = `${t(tf2.enrolled ? "twofa_on" : "twofa_off")} ${tf2.required ? t("twofa_required") : ""}`;
  $("account-2fa-btn").textContent = t(tf2.enrolled ? "enrol_again" : "enrol_start");
  $("account-password").hidden = !tf2.password;
  await loadKeys();
}

async function loadKeys() {
  const { keys } = await api("/api/v1/account/keys");
  const ul = $("account-keys");
  ul.replaceChildren();
  if (!keys.length) ul.append(el("li", "muted", t("key_none")));
  for (const k of keys) {
    const li = el("li", "", tf("key_row", { label: k.label || k.id, role: t(`role_${k.role}`),
      made: clock(k.created), used: k.used ? clock(k.used) : t("never") }));
    const revoke = el("button", "small secondary", t("key_revoke"), { type: "button" });
    revoke.addEventListener("click", async () => {
      try { await api(`/api/v1/account/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" }); await loadKeys(); }
      catch (err) { toast(refused(err), "error"); }
    });
    li.append(" ", revoke);
    ul.append(li);
  }
}

// `reenter`: back to the console once a code is confirmed. The button is wired here, once, not
// when the account has loaded: it shows from the start, and a click before that load did nothing.
export function initAccount(reenter) {
  $("account-2fa-btn").addEventListener("click", () => enrol(reenter).catch((err) => toast(err.message, "error")));
  $("account-password").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      await api("/api/v1/account/password", { method: "POST", body: { old: f.old.value, new: f.new.value } });
      f.reset();
      toast(t("password_changed"));
    } catch (err) {
      toast(refused(err), "error");
    }
  });
  $("account-key").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      const made = await api("/api/v1/account/keys", { method: "POST", body: { label: f.label.value, role: f.role.value } });
      f.reset();
      const p = $("account-key-new");
      p.textContent = tf("key_shown_once", { key: made.key });
      p.hidden = false;
      await loadKeys();
    } catch (err) {
      toast(refused(err), "error");
    }
  });
}
