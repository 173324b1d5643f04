// People in the console: signing in with an agent id and password (POST /api/v1/login) beside
// the token form, and, for admins, adding an agent in the Team tab (POST /api/v1/agents). The
// server checks every field and role; this page says what it answered.
import { $, api, el } from "./dom.js";
import { addStrings, t } from "./i18n.js";
import { loadTeam } from "./team.js";

addStrings({
  en: { pw_title: "Or sign in with your password", pw_signin: "Continue with password", agent_id: "Agent id", password: "Password", otp: "Code from your app",
        bad_login: "That id and password were not accepted.", add_agent: "Add an agent", role: "Role",
        role_agent: "agent", role_supervisor: "supervisor", role_admin: "admin", max_chats: "Chats at once",
        pools_hint: "pools, separated by commas", agent_added: "Agent {id} added.", password_once: "Their password (shown once): {pw}",
        password_hint: "leave empty for a generated one" },
  zh: { pw_title: "或用密码登录", pw_signin: "密码进入", agent_id: "工号", password: "密码", otp: "验证器中的动态码",
        bad_login: "工号或密码不正确。", add_agent: "添加客服", role: "角色",
        role_agent: "客服", role_supervisor: "主管", role_admin: "管理员", max_chats: "同时接待数",
        pools_hint: "技能组，用逗号分隔", agent_added: "已添加客服 {id}。", password_once: "初始密码（只显示这一次）：{pw}",
        password_hint: "留空则自动生成" },
});

function labelled(form, key, input, hint) {
  input.id ||= `acc-${key}`;
  form.append(el("label", "", t(key), { for: input.id, "data-i18n": key }), input);
  if (hint) form.append(el("small", "muted", hint));
  return input;
}

// A second form beside the token one, shown and hidden with it.
function passwordSignIn(enter) {
  const tokenForm = $("signin");
  const form = el("form", "signin signin-pw", undefined, { id: "signin-pw" });
  form.append(el("h2", "", t("pw_title"), { "data-i18n": "pw_title" }));
  const id = labelled(form, "agent_id", el("input", "", undefined, { id: "pw-id", autocomplete: "username", required: "" }));
  const pw = labelled(form, "password", el("input", "", undefined,
    { id: "pw-password", type: "password", autocomplete: "current-password", required: "" }));
  const otp = labelled(form, "otp", el("input", "", undefined, { id: "pw-otp", inputmode: "numeric", autocomplete: "one-time-code" }));
  form.append(el("button", "", t("pw_signin"), { type: "submit", "data-i18n": "pw_signin" }));
  const error = el("p", "error", "", { role: "alert", id: "signin-pw-error" });
  form.append(error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const body = { id: id.value.trim(), password: pw.value };
    if (otp.value.trim()) body.otp = otp.value.trim();
    try {
      const data = await api("/api/v1/login", { method: "POST", body });
      pw.value = "";
      otp.value = "";
      enter(data.agent);
    } catch (err) {
      error.textContent = err.status === 429 || err.body?.error === "otp_required" ? err.message : t("bad_login");
    }
  });
  tokenForm.after(form);
  const follow = () => { form.hidden = tokenForm.hidden; };
  new MutationObserver(follow).observe(tokenForm, { attributes: true, attributeFilter: ["hidden"] });
  follow();
}

function addAgentForm() {
  const page = $("tab-team");
  if (!page || $("add-agent")) return;
  const section = el("section", "admin-only", undefined, { id: "add-agent" });
  section.append(el("h2", "", t("add_agent"), { "data-i18n": "add_agent" }));
  const form = el("form", "profile-form");
  const id = labelled(form, "agent_id", el("input", "", undefined, { id: "new-agent-id", required: "", maxlength: "64" }));
  const name = labelled(form, "name", el("input", "", undefined, { id: "new-agent-name", maxlength: "64" }));
  const role = labelled(form, "role", el("select", "", undefined, { id: "new-agent-role" }));
  for (const r of ["agent", "supervisor", "admin"]) role.append(el("option", "", t(`role_${r}`), { value: r }));
  const pools = labelled(form, "pools", el("input", "", undefined, { id: "new-agent-pools" }), t("pools_hint"));
  const cap = labelled(form, "max_chats", el("input", "", undefined,
    { id: "new-agent-cap", type: "number", min: "0", max: "100", value: "5" }));
  const pw = labelled(form, "password", el("input", "", undefined,
    { id: "new-agent-password", type: "password", autocomplete: "new-password" }), t("password_hint"));
  form.append(el("button", "", t("add_agent"), { type: "submit" }));
  const status = el("p", "", "", { role: "status", id: "add-agent-status" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { id: id.value.trim(), name: name.value.trim() || id.value.trim(), role: role.value,
                   pools: pools.value.split(/[,，\s]+/).filter(Boolean), max_chats: Number(cap.value) };
    if (pw.value) body.password = pw.value;
    try {
      const answer = await api("/api/v1/agents", { method: "POST", body });
      status.className = "ok";
      status.textContent = t("agent_added").replace("{id}", answer.agent?.id || body.id) +
        (answer.password ? ` ${t("password_once").replace("{pw}", answer.password)}` : "");
      form.reset();
      await loadTeam();
    } catch (err) {
      status.className = "error";
      status.textContent = err.message;
    }
  });
  section.append(form, status);
  page.prepend(section);
}

export function initAccounts(enter) {
  passwordSignIn(enter);
  addAgentForm();
}
