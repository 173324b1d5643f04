// Conversation records: search (live and archived), the views mine / unassigned / open /
// closed / recent / all with cursor paging and filters (records_filters.js), and a read-only reader. The server decides who sees what
// (agents: their own); this page only says so when a list comes back empty or a read is refused.
import { $, api, clock, el, marked } from "./dom.js";
import { t, tf } from "./i18n.js";
import { oversee, stop as stopOversee } from "./oversee.js";
import { renderProfile } from "./profile.js";
import { filterQuery, initFilters, remember, savedView, showFilters } from "./records_filters.js";
import { customerName, isSupervisor, state } from "./state.js";
import { takeOverButton } from "./supervisor.js";
import { messageItem } from "./view.js";

const PAGE = 50;
const SHORT_PAGE_ASKS = 10;
// `gen` counts listings: a view switch or a search starts a new one, and a page still loading for
// an older one is dropped when it comes (a click during the first page's load used to be lost).
const list = { view: null, cursor: null, query: "", busy: null, count: 0, gen: 0 };
let openInInbox = () => {};

export function initRecords(select) {
  openInInbox = select;
  $("rec-search").addEventListener("submit", (e) => { e.preventDefault(); search($("rec-q").value.trim()); });
  // Clearing the box (its ✕ or Escape) goes back to the view it was searching from.
  $("rec-q").addEventListener("search", () => { if (!$("rec-q").value.trim()) search(""); });
  for (const b of $("rec-views").querySelectorAll("[data-view]")) b.addEventListener("click", () => showView(b.dataset.view));
  $("rec-more").addEventListener("click", () => loadPage());
  $("rec-to-inbox").addEventListener("click", () => openInInbox($("rec-current").dataset.id));
  initFilters(() => showView(list.view || defaultView()));
}

const defaultView = () => (isSupervisor() ? "all" : "mine");

export function showRecords() {
  if (!list.view) list.view = savedView();
  if (list.query) search(list.query);
  else showView(list.view || defaultView());
}

function showView(name) {
  list.view = name;
  list.query = "";
  list.gen += 1;
  remember(name);
  showFilters(name);
  $("rec-q").value = "";
  for (const b of $("rec-views").querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === name));
  list.cursor = null;
  list.count = 0;
  $("rec-list").replaceChildren();
  loadPage();
}

async function loadPage() {
  const gen = list.gen;
  if (list.busy === gen) return; // this listing's next page is already on its way
  list.busy = gen;
  const view = list.view;
  $("rec-more").disabled = true;
  setStatus(t("loading"));
  try {
    // A page may come back short where the API passes from Redis to the archive (it skips rows
    // both hold); ask on until "Load more" has added a whole page or the view has ended.
    let got = 0;
    for (let asks = 0; asks < SHORT_PAGE_ASKS && got < PAGE; asks++) {
      const cursor = list.cursor ? `&cursor=${encodeURIComponent(list.cursor)}` : "";
      const data = await api(`/api/v1/conversations?view=${view}&limit=${PAGE - got}${cursor}${filterQuery(view)}`);
      if (list.gen !== gen) return; // the agent moved on meanwhile
      for (const c of data.conversations) $("rec-list").append(row(c.id, c, null));
      got += data.conversations.length;
      list.cursor = data.next_cursor;
      if (!list.cursor) break;
    }
    list.count += got;
    $("rec-more").hidden = !list.cursor;
    if (list.count) setStatus(`${tf("shown", { n: list.count })}${list.cursor ? ` · ${t("more_left")}` : ""}`);
    else setStatus(emptyText(view));
  } catch (err) {
    if (list.gen === gen) setStatus(err.message, true);
  } finally {
    if (list.busy === gen) {
      list.busy = null;
      $("rec-more").disabled = false;
    }
  }
}

function emptyText(view) {
  if (isSupervisor()) return t("no_convs");
  return `${t("no_convs")} ${view === "unassigned" ? t("sup_only_view") : t("own_only")}`;
}

async function search(q) {
  if (!q) { list.query = ""; showView(list.view || defaultView()); return; }
  list.query = q;
  list.gen += 1;
  for (const b of $("rec-views").querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", "false");
  $("rec-more").hidden = true;
  $("rec-list").replaceChildren();
  setStatus(t("loading"));
  try {
    const data = await api(`/api/v1/search?q=${encodeURIComponent(q)}&limit=${PAGE}`);
    if (list.query !== q) return;
    for (const r of data.results) $("rec-list").append(row(r.conversation_id, r, data.tokens || []));
    const n = data.results.length;
    // Search has no cursor: at the limit, say that more words (or an order number) narrow it.
    setStatus(n ? `${tf("results", { n, q })}${n >= PAGE ? ` · ${t("narrow")}` : ""}`
      : `${tf("no_results", { q })}${isSupervisor() ? "" : ` ${t("own_only")}`}`);
  } catch (err) {
    setStatus(err.message, true);
  }
}

function setStatus(text, bad = false) {
  $("rec-status").textContent = text;
  $("rec-status").className = bad ? "error pad" : "muted pad";
}

// Spans of every token in `text`, in code points as marked() wants them.
function spans(text, tokens) {
  const chars = Array.from(text.toLowerCase());
  const out = [];
  for (const tok of tokens) {
    const want = Array.from(tok.toLowerCase());
    if (!want.length) continue;
    for (let i = 0; i + want.length <= chars.length; i++) {
      if (want.every((ch, j) => chars[i + j] === ch)) out.push({ start: i, end: i + want.length });
    }
  }
  return out;
}

// One list entry; `hit` is a search result or a view's conversation, with the same few fields.
function row(id, hit, tokens) {
  const li = el("li");
  const btn = el("button", "conv rec", undefined, { type: "button", "data-id": id });
  const name = hit.customer_name || customerName({ customer_id: hit.customer_id, id }, t("visitor"));
  btn.append(el("span", `chan chan-${hit.channel}`, hit.channel), el("span", "who", name));
  const when = el("span", "timers");
  const closed = hit.state === "closed";
  when.append(el("span", `badge ${closed ? "state-closed" : "state-open"}`, closed ? t("v_closed") : t("v_open")));
  if (hit.archived) when.append(el("span", "badge", t("archived")));
  when.append(el("time", "muted", clock(hit.ts || hit.updated || hit.created)));
  btn.append(when);
  const preview = el("span", "preview");
  if (tokens) preview.append(marked(hit.snippet || "", spans(hit.snippet || "", tokens)));
  else preview.textContent = [hit.agent && `${t("agent")} ${hit.agent}`, hit.pool && `${t("pool")} ${hit.pool}`]
    .filter(Boolean).join(" · ");
  btn.append(preview);
  btn.addEventListener("click", () => openRecord(id));
  li.append(btn);
  return li;
}

function markActive(id) {
  for (const b of $("rec-list").querySelectorAll("button.rec")) {
    const on = b.dataset.id === id;
    b.parentElement.className = on ? "active" : "";
    if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
  }
}

// Open a conversation: the agent's own live one goes to the inbox, with its composer; anything
// else (closed, archived, someone else's) is read here, with no way to write into it.
export async function openRecord(id, preloaded = null) {
  markActive(id);
  if (!preloaded && state.convs.has(id)) { openInInbox(id); return; }
  history.replaceState(null, "", `#records/${encodeURIComponent(id)}`);
  $("rec-empty").hidden = true;
  $("rec-current").hidden = false;
  $("rec-current").dataset.id = id;
  $("rec-title").replaceChildren(t("loading"));
  $("rec-meta").textContent = "";
  $("rec-state").textContent = "";
  $("rec-messages").replaceChildren();
  let conv = preloaded?.conversation;
  let messages = preloaded?.messages;
  let customer = preloaded?.customer;
  if (!conv) {
    try {
      const data = await api(`/api/v1/conversations/${encodeURIComponent(id)}`);
      ({ conversation: conv, messages, customer } = data);
    } catch (err) {
      if ($("rec-current").dataset.id !== id) return;
      $("rec-title").textContent = err.status === 403 ? t("not_yours") : err.status === 404 ? t("not_found") : err.message;
      $("rec-state").className = "readonly bad";
      return;
    }
  }
  if ($("rec-current").dataset.id !== id) return;
  renderRecord(conv, messages || [], customer);
}

const TAKE_WAIT_MS = 10000;

// After a take-over, the inbox shows the conversation once its `assigned` frame has come.
function whenMine(id) {
  const until = Date.now() + TAKE_WAIT_MS;
  const timer = setInterval(() => {
    if (state.convs.has(id)) { clearInterval(timer); openInInbox(id); } else if (Date.now() > until) clearInterval(timer);
  }, 200);
}

function renderRecord(conv, messages, customer) {
  const title = $("rec-title");
  const name = customer?.name || conv.customer_name || customerName(conv, t("visitor"));
  title.replaceChildren(el("span", `chan chan-${conv.channel}`, conv.channel), " ", el("span", "", name));
  $("rec-meta").textContent = [conv.id, conv.pool && `${t("pool")} ${conv.pool}`, conv.agent && `${t("agent")} ${conv.agent}`,
    clock(conv.created), conv.archived && t("from_archive")].filter(Boolean).join(" · ");
  const closed = conv.state === "closed";
  const st = $("rec-state");
  st.className = `readonly ${closed ? "closed" : "open"}`;
  st.textContent = closed ? t("st_closed_ro") + (conv.resolution ? ` · ${t(`res_${conv.resolution}`)}` : "")
    : conv.agent ? tf("st_open_ro", { agent: conv.agent }) : t("st_waiting_ro");
  // Mine and still open: the inbox is where it can be answered. Someone else's and open: a
  // supervisor may take it over, and it then opens in their inbox once assigned.
  $("rec-to-inbox").hidden = closed || !state.convs.has(conv.id);
  $("rec-take")?.remove();
  if (!closed && conv.agent && conv.agent !== state.me?.id && isSupervisor()) {
    const take = takeOverButton(conv.id, () => whenMine(conv.id));
    take.id = "rec-take";
    $("rec-to-inbox").after(take);
  }
  const log = $("rec-messages");
  const named = { ...conv, customer: { ...(conv.customer || {}), name } };
  log.replaceChildren(...messages.map((m) => messageItem(m, named)));
  log.scrollTop = 0;
  // Someone else's open conversation, for a supervisor: read live, join, whisper (oversee.js).
  $("ov-panel")?.remove();
  stopOversee();
  if (!closed && !conv.archived && isSupervisor() && conv.agent !== state.me?.id && !state.convs.has(conv.id)) {
    const shown = new Set(messages.map((m) => m.id));
    const draw = (m) => {
      log.append(messageItem(m, named));
      log.scrollTop = log.scrollHeight;
    };
    log.after(oversee(conv, shown, draw));
  }
  // Who the customer is, editable by those who may (console/profile.js): a supervisor reading any
  // conversation can set a segment or merge a duplicate without it being in their inbox.
  let side = $("rec-cust");
  if (!side) {
    side = el("section", "rec-cust", undefined, { id: "rec-cust", "aria-label": t("customer") });
    $("rec-state").after(side);
  }
  const again = () => renderProfile(side, customer, again);
  if (customer?.id) again(); else side.replaceChildren();
}
