// Agents, their pools and caps. Supervisors and admins change a cap in place
// (PUT /api/v1/agents/{id}/cap); a live cap overrides the config's until cleared
// (DELETE), so the config's is shown beside it with a button to go back to it.
import { $, api, clock, duration, el, toast } from "./dom.js";
import { reasonLabel } from "./status.js";
import { t, tf } from "./i18n.js";
import { isSupervisor, state } from "./state.js";
import { face } from "./pictures.js";
import { adminCell } from "./team_admin.js";

// Away says why and since when, so a supervisor sees who is on a break and for how long.
function statusCell(a) {
  const td = el("td", `st st-${a.status}`, t(`st_${a.status}`));
  if (a.status === "away") {
    if (a.away_reason) td.append(" · ", el("span", "reason", reasonLabel(a.away_reason)));
    if (a.status_since) td.append(" · ", el("span", "muted", tf("away_since", { time: clock(a.status_since) })));
  }
  return td;
}

function awayCell(a) {
  const parts = Object.entries(a.away_today || {}).filter(([, s]) => s >= 1)
    .map(([r, s]) => `${reasonLabel(r)} ${duration(s)}`);
  return el("td", "away-today", parts.join(", "));
}

// A teammate's status changed (pushed, status.lua): their row says so at once.
export function teamStatusChanged(f) {
  const a = (state.agents || []).find((x) => x.id === f.agent);
  if (!a) return;
  Object.assign(a, { status: f.status, away_reason: f.reason || "", status_since: f.since });
  const cell = document.querySelector(`#team-agents tr[data-agent="${CSS.escape(f.agent)}"] td.st`);
  cell?.replaceWith(statusCell(a));
}

export async function loadTeam() {
  let agents;
  try {
    agents = (await api("/api/v1/agents")).agents || [];
  } catch (err) {
    $("team-agents").replaceChildren(el("p", "error", err.message));
    return;
  }
  state.agents = agents;
  const admin = isSupervisor(); // supervisors and admins set caps
  const tbl = el("table", "grid");
  const head = el("tr");
  const isAdmin = state.me?.role === "admin"; // the admin's own buttons (team_admin.js)
  for (const h of ["agent", "status", "away_today", "pools", "load", "cap", ...(isAdmin ? ["actions"] : [])]) {
    head.append(el("th", "", t(h), { scope: "col" }));
  }
  tbl.append(head);
  for (const a of agents) {
    const tr = el("tr", "", undefined, { "data-agent": a.id });
    const who = el("td", "", `${a.name || a.id} (${a.id}) · ${t(`role_${a.role}`)}`);
    who.prepend(face(a), " ");
    if (a.disabled) { tr.classList.add("disabled"); who.append(" ", el("span", "badge", t("disabled_badge"))); }
    tr.append(who, statusCell(a), awayCell(a),
      el("td", "", (a.pools || []).join(", ")), el("td", "", String(a.load)));
    const td = el("td");
    if (admin) {
      const input = el("input", "cap", undefined, { type: "number", min: "0", max: "100", value: String(a.max_chats),
        "aria-label": `${t("cap")} ${a.name || a.id}` });
      const save = el("button", "small", t("save"), { type: "button" });
      save.addEventListener("click", async () => {
        try {
          await api(`/api/v1/agents/${encodeURIComponent(a.id)}/cap`, { method: "PUT", body: { cap: Number(input.value) } });
          toast(`${a.id}: ${t("cap")} ${input.value}. ${t("saved")}`);
          await loadTeam(); // now an override: the config's cap shows beside it
        } catch (err) {
          toast(err.status === 404 ? t("unavailable") : err.message, "error");
        }
      });
      td.append(input, save);
      if (a.cap_override != null) {
        const reset = el("button", "small", t("cap_reset"), { type: "button", "aria-label": `${t("cap_reset")} ${a.name || a.id}` });
        reset.addEventListener("click", async () => {
          try {
            await api(`/api/v1/agents/${encodeURIComponent(a.id)}/cap`, { method: "DELETE" });
            await loadTeam();
          } catch (err) {
            toast(err.message, "error");
          }
        });
        td.append(" ", el("span", "muted", t("cap_config").replace("{n}", String(a.cap_configured))), " ", reset);
      }
    } else {
      td.textContent = String(a.max_chats);
    }
    tr.append(td);
    if (isAdmin) tr.append(adminCell(a, state.me.id));
    tbl.append(tr);
  }
  $("team-agents").replaceChildren(tbl);
  const pools = new Map();
  for (const a of agents) for (const p of a.pools || []) pools.set(p, [...(pools.get(p) || []), a]);
  const ul = el("ul", "pools");
  for (const [p, members] of [...pools].sort()) {
    const online = members.filter((a) => a.status === "online");
    const free = online.reduce((n, a) => n + Math.max(0, a.max_chats - a.load), 0);
    ul.append(el("li", "", tf("pool_line", { pool: p, members: members.map((a) => a.id).join(", "), online: online.length, free })));
  }
  $("team-pools").replaceChildren(ul);
}
