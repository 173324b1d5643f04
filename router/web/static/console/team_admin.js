// The admin's side of the Team page: add an agent, change one (name, role, pools, skills and
// levels, cap), disable and enable, reset a password. Live on every process, no restart; the
// server refuses anyone but an admin, whatever this page shows.
import { $, api, el, toast } from "./dom.js";
import { addStrings, t, tf } from "./i18n.js";
import { refusal } from "./refusals.js";
import { pictureControls } from "./pictures.js";

addStrings({
  en: {
    add_agent: "Add an agent", edit_agent: "Save changes to {id}", cancel_edit: "Cancel", agent_id: "ID", role: "Role",
    pools_ph: "presale, aftersale", skills_ph: "presale:4, english:3", actions: "Actions",
    edit: "Edit", disable: "Disable", enable: "Enable", reset_password: "Reset password", disabled_badge: "disabled",
    agent_added: "{id} added.", agent_saved: "{id} saved.", agent_disabled: "{id} disabled; {n} chats handed on.",
    agent_enabled: "{id} enabled.", one_time: "One-time password for {id} (shown this once; hand it on, they change it): {password}",
    confirm_disable: "Disable {id}? Their chats go back to the queue and they are signed out everywhere.",
    skills_bad: "Skills: name:level pairs, level 1 to 5.", password_hint: "leave empty for a generated one", initial_password: "Initial password",
  },
  zh: {
    add_agent: "添加坐席", edit_agent: "保存对 {id} 的修改", cancel_edit: "取消", agent_id: "账号", role: "角色",
    pools_ph: "presale, aftersale", skills_ph: "presale:4, english:3", actions: "操作",
    edit: "编辑", disable: "停用", enable: "启用", reset_password: "重置密码", disabled_badge: "已停用",
    agent_added: "已添加 {id}。", agent_saved: "已保存 {id}。", agent_disabled: "已停用 {id}，{n} 个会话已转出。",
    agent_enabled: "已启用 {id}。", one_time: "{id} 的一次性密码（仅显示这一次，请转交本人并让其修改）：{password}",
    confirm_disable: "停用 {id}？其会话将回到队列，且所有登录立即失效。",
    skills_bad: "技能格式：名称:等级，等级 1 到 5。", password_hint: "留空则自动生成", initial_password: "初始密码",
  },
});

let editing = null;
let reload = async () => {};

function list(text) {
  return text.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);
}

function skills(text) {
  const out = {};
  for (const pair of list(text)) {
    const [name, level] = pair.split(/[:：]/);
    const n = Number(level);
    if (!name || !Number.isInteger(n) || n < 1 || n > 5) throw new Error(t("skills_bad"));
    out[name] = n;
  }
  return out;
}

function showSecret(id, password) {
  const p = $("team-secret");
  p.textContent = tf("one_time", { id, password });
  p.hidden = false;
}

function stopEditing() {
  editing = null;
  const f = $("team-add");
  f.reset();
  f.id.disabled = false;
  $("team-add-password").hidden = false;
  f.querySelector("button[type=submit]").textContent = t("add_agent");
  $("team-cancel")?.remove();
}

function startEditing(a) {
  editing = a.id;
  const f = $("team-add");
  f.id.value = a.id;
  f.id.disabled = true;
  $("team-add-password").hidden = true; // a password is reset with its own button
  f.name.value = a.name;
  f.role.value = a.role;
  f.pools.value = (a.pools || []).join(", ");
  f.skills.value = Object.entries(a.skills || {}).map(([k, v]) => `${k}:${v}`).join(", ");
  f.max_chats.value = String(a.cap_configured || a.max_chats);
  f.querySelector("button[type=submit]").textContent = tf("edit_agent", { id: a.id });
  if (!$("team-cancel")) {
    const cancel = el("button", "secondary", t("cancel_edit"), { type: "button", id: "team-cancel" });
    cancel.addEventListener("click", stopEditing);
    f.append(cancel);
  }
  f.name.focus();
}

export function initTeamAdmin(load) {
  reload = load;
  $("team-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      const body = { name: f.name.value.trim(), role: f.role.value, pools: list(f.pools.value),
        skills: skills(f.skills.value), max_chats: Number(f.max_chats.value) };
      if (editing) {
        const id = editing;
        await api(`/api/v1/agents/${encodeURIComponent(id)}`, { method: "PATCH", body });
        toast(tf("agent_saved", { id }));
      } else {
        const id = f.id.value.trim();
        const made = await api("/api/v1/agents", { method: "POST",
          body: { id, ...body, ...(f.password.value ? { password: f.password.value } : {}) } });
        toast(tf("agent_added", { id }));
        if (made.password) showSecret(id, made.password);
      }
      stopEditing();
      await reload();
    } catch (err) {
      toast(refusal(err), "error");
    }
  });
}

// The admin's buttons for one agent's row.
export function adminCell(a, me) {
  const td = el("td", "row-actions");
  const edit = el("button", "small secondary", t("edit"), { type: "button", "aria-label": `${t("edit")} ${a.id}` });
  edit.addEventListener("click", () => startEditing(a));
  td.append(edit, " ", pictureControls(a, () => reload()));
  if (a.id === me) return td; // no disabling or resetting yourself here
  const toggle = el("button", "small secondary", t(a.disabled ? "enable" : "disable"),
    { type: "button", "aria-label": `${t(a.disabled ? "enable" : "disable")} ${a.id}` });
  toggle.addEventListener("click", async () => {
    if (!a.disabled && !confirm(tf("confirm_disable", { id: a.id }))) return;
    try {
      const done = await api(`/api/v1/agents/${encodeURIComponent(a.id)}/${a.disabled ? "enable" : "disable"}`, { method: "POST" });
      toast(a.disabled ? tf("agent_enabled", { id: a.id }) : tf("agent_disabled", { id: a.id, n: done.chats_handed_on }));
      await reload();
    } catch (err) {
      toast(refusal(err), "error");
    }
  });
  const reset = el("button", "small secondary", t("reset_password"), { type: "button", "aria-label": `${t("reset_password")} ${a.id}` });
  reset.addEventListener("click", async () => {
    try {
      const done = await api(`/api/v1/agents/${encodeURIComponent(a.id)}/password`, { method: "POST", body: {} });
      showSecret(a.id, done.password);
    } catch (err) {
      toast(refusal(err), "error");
    }
  });
  td.append(" ", toggle, " ", reset);
  return td;
}
