// olm's chat page: plain JavaScript, no libraries, nothing loaded from another host.
//
// Model output is untrusted. It reaches the page only as text (textContent and text nodes,
// shown with white-space: pre-wrap), never as HTML; the server's Content-Security-Policy
// forbids inline scripts and handlers besides.
"use strict";

const $ = (id) => document.getElementById(id);

// Everything the page keeps lives in localStorage under these keys.
const KEYS = {
  chats: "olm.chats",
  current: "olm.current",
  settings: "olm.settings",
  apiKey: "olm.apiKey",
  unreadable: "olm.chats.unreadable", // stored chats the page could not read, kept for a person
};

function load(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : JSON.parse(v);
  } catch {
    return fallback;
  }
}

// loadAs is load for a value of the fallback's kind (an object, a string): anything else
// stored there is as good as nothing.
function loadAs(key, fallback) {
  const v = load(key, fallback);
  const kind = (x) => (x === null ? "null" : Array.isArray(x) ? "array" : typeof x);
  return kind(v) === kind(fallback) ? v : fallback;
}

function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    showError("This browser's storage is full (" + e.message + "): delete old chats.");
  }
}

let chats = []; // newest first, as stored (readChats)
let currentId = null;
// running is the answer being streamed: {controller, chat, answer, usage, t0, tFirst, tLast, nFirst}.
let running = null;
let leaving = false; // the page is going away (pagehide): the stream's end is not this page's
let shown = ""; // the open chat as last drawn (drawn): another tab's write redraws it only when it changed
const contextLength = new Map(); // model -> tokens per slot, from GET /api/ps

// UserError carries a message meant for the person, shown as it is.
class UserError extends Error {}

function showError(text) {
  $("banner-text").textContent = text;
  $("banner").hidden = false;
}

function clearError() {
  $("banner").hidden = true;
  $("banner-text").textContent = "";
}

// showNotice tells something that is no error of the server's (loadModels clears those).
function showNotice(text) {
  $("notice-text").textContent = text;
  $("notice").hidden = false;
}

// --- the API -------------------------------------------------------------------------

// api calls olm serve with the stored key; a 401 asks for the key and tries again.
async function api(path, opts = {}) {
  for (;;) {
    const headers = Object.assign({}, opts.headers);
    const key = loadAs(KEYS.apiKey, "");
    if (key) headers.Authorization = "Bearer " + key;
    let resp;
    try {
      resp = await fetch(path, Object.assign({}, opts, { headers }));
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new UserError(unreachable(""));
    }
    if (resp.status === 401) {
      await askKey(key ? "That key was refused: try again." : "");
      continue;
    }
    if (!resp.ok) throw new UserError(await errorText(resp));
    return resp;
  }
}

// unreachable: the server is down, or went down (how says when).
function unreachable(how) {
  return "Cannot reach olm serve at " + location.origin + how + ": is it running? Start it with: olm serve";
}

// errorText is the API's own message: OpenAI's {"error": {"message"}} or ollama's {"error"}.
async function errorText(resp) {
  const body = await resp.text().catch(() => "");
  let msg = body.trim();
  try {
    const j = JSON.parse(body);
    msg = (j.error && (j.error.message || (typeof j.error === "string" && j.error))) || msg;
  } catch {}
  return "olm serve: " + (msg || resp.statusText) + " (HTTP " + resp.status + ")";
}

let keyWaiters = [];

// askKey shows the key form once, however many requests are waiting for it.
function askKey(message) {
  $("key-message").textContent = message;
  $("key-dialog").hidden = false;
  $("api-key").focus();
  return new Promise((resolve) => keyWaiters.push(resolve));
}

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  save(KEYS.apiKey, key);
  $("api-key").value = "";
  $("key-dialog").hidden = true;
  const w = keyWaiters;
  keyWaiters = [];
  w.forEach((resolve) => resolve());
});

// sseData yields the data of each server-sent event of a streamed response.
async function* sseData(resp) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    let value, done;
    try {
      ({ value, done } = await reader.read());
    } catch (e) {
      // The connection broke mid-answer: the server died or was stopped.
      if (e.name === "AbortError") throw e;
      throw new UserError(unreachable(" (the connection closed in the middle of the answer)"));
    }
    buf += decoder.decode(value || new Uint8Array(), { stream: !done });
    let end;
    while ((end = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end).replace(/^\r?\n\r?\n/, "");
      const data = block
        .split(/\r?\n/)
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) yield data;
    }
    if (done) return;
  }
}

// --- models and settings ---------------------------------------------------------------

async function loadModels() {
  clearError();
  let list;
  try {
    const resp = await api("/v1/models");
    list = (await resp.json()).data || [];
  } catch (e) {
    showError(e.message);
    return;
  }
  const select = $("model");
  const wanted = select.value || loadAs(KEYS.settings, {}).model;
  select.replaceChildren();
  for (const m of list) {
    const o = document.createElement("option");
    o.value = m.id;
    o.textContent = m.id;
    select.append(o);
  }
  if (list.some((m) => m.id === wanted)) select.value = wanted;
  if (list.length === 0) showError("No models on this machine yet: pull one (olm pull qwen) and press Retry.");
  document.body.dataset.ready = "true";
}

function settings() {
  const num = (id) => {
    const v = $(id).value.trim();
    return v === "" ? undefined : Number(v);
  };
  return { model: $("model").value, temperature: num("temperature"), top_p: num("top-p"), max_tokens: num("max-tokens") };
}

function saveSettings() {
  const s = settings();
  save(KEYS.settings, s);
}

function restoreSettings() {
  const s = loadAs(KEYS.settings, {});
  const put = (id, v) => {
    if (typeof v === "number" && isFinite(v)) $(id).value = String(v);
  };
  put("temperature", s.temperature);
  put("top-p", s.top_p);
  put("max-tokens", s.max_tokens);
}

// --- chats -------------------------------------------------------------------------------
//
// A chat: {id, title, system, messages: [{role, content, stats?, note?, partial?}], updated}.
// partial marks an answer being written: it is stored as it streams, so a reload keeps it.
// The tabs of one browser share localStorage: each writes only the chat it changed, into
// what is stored at that moment, and hears the others' writes (the storage event).

const str = (v) => (typeof v === "string" ? v : "");

// cleanChat is a stored chat as the page can show it (null: not a chat); dropped counts
// the messages it had to leave out.
function cleanChat(c) {
  if (!c || typeof c !== "object" || typeof c.id !== "string" || c.id === "" || !Array.isArray(c.messages)) {
    return { chat: null, dropped: 0 };
  }
  const messages = [];
  let dropped = 0;
  for (const m of c.messages) {
    if (!m || typeof m !== "object" || (m.role !== "user" && m.role !== "assistant") || typeof m.content !== "string") {
      dropped++;
      continue;
    }
    if (m.partial === true && m.content === "") continue; // begun, nothing came: no empty turn
    const out = { role: m.role, content: m.content };
    if (str(m.stats)) out.stats = m.stats;
    if (str(m.note)) out.note = m.note;
    if (m.partial === true) out.partial = true;
    messages.push(out);
  }
  const updated = typeof c.updated === "number" && isFinite(c.updated) ? c.updated : 0;
  return { chat: { id: c.id, title: str(c.title), system: str(c.system), messages, updated }, dropped };
}

// drawn is what the page shows of a chat, to compare two copies of it.
const drawn = (c) => JSON.stringify(cleanChat(c).chat);

const byNewest = (list) => list.sort((a, b) => b.updated - a.updated);

// readChats: the stored chats, newest first; dropped counts the chats and messages that
// could not be read, raw is what was stored.
function readChats() {
  let raw = null;
  try {
    raw = localStorage.getItem(KEYS.chats);
  } catch {}
  if (raw === null) return { list: [], dropped: 0, raw };
  let v;
  try {
    v = JSON.parse(raw);
  } catch {
    return { list: [], dropped: 1, raw };
  }
  if (!Array.isArray(v)) return { list: [], dropped: 1, raw };
  const list = [];
  const ids = new Set();
  let dropped = 0;
  for (const c of v) {
    const r = cleanChat(c);
    dropped += r.dropped;
    if (!r.chat || ids.has(r.chat.id)) {
      dropped++;
      continue;
    }
    ids.add(r.chat.id);
    list.push(r.chat);
  }
  return { list: byNewest(list), dropped, raw };
}

// adopt makes list the page's chats, but for the chat being answered here: only this tab
// writes that one while it streams.
function adopt(list) {
  if (running) {
    const i = list.findIndex((c) => c.id === running.chat.id);
    if (i >= 0) list[i] = running.chat;
    else list.unshift(running.chat);
  }
  chats = list;
}

// storeChat writes chat (or, deleted, takes it out) into what is stored now: the chats
// of other tabs stay as they wrote them.
function storeChat(chat, deleted = false) {
  const list = readChats().list.filter((c) => c.id !== chat.id);
  if (!deleted) list.push(chat);
  byNewest(list);
  save(KEYS.chats, list);
  adopt(list);
}

// loadStored reads the chats at start; what cannot be read is left out, said, and kept
// aside under its own key, so that nothing is lost for good.
function loadStored() {
  const { list, dropped, raw } = readChats();
  chats = list;
  const id = load(KEYS.current, null);
  currentId = typeof id === "string" ? id : null;
  if (dropped === 0) return;
  let kept = true;
  try {
    localStorage.setItem(KEYS.unreadable, raw);
  } catch {
    kept = false; // storage full: leave what was stored where it is
  }
  if (kept) save(KEYS.chats, list);
  showNotice(
    "Left out " + dropped + " stored chat" + (dropped === 1 ? "" : "s") + " or message" + (dropped === 1 ? "" : "s") +
      " that this page could not read. " +
      (kept
        ? "What was stored is kept in this browser's localStorage as " + KEYS.unreadable + "."
        : "This browser's storage is full: what was stored stays under " + KEYS.chats + " until the page writes a chat."),
  );
}

function saveCurrent() {
  save(KEYS.current, currentId);
}

function currentChat() {
  return chats.find((c) => c.id === currentId) || newChat();
}

function newChat() {
  const prev = chats.find((c) => c.id === currentId);
  const c = { id: Date.now().toString(36) + Math.random().toString(36).slice(2, 8), title: "", system: prev ? prev.system : "", messages: [], updated: Date.now() };
  currentId = c.id;
  saveCurrent();
  storeChat(c);
  return c;
}

function renderSidebar() {
  const ul = $("chats");
  ul.replaceChildren();
  for (const c of chats) {
    const id = c.id;
    const li = document.createElement("li");
    li.className = id === currentId ? "chat current" : "chat";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.textContent = c.title || "New chat";
    open.title = c.title || "New chat";
    open.disabled = running !== null;
    open.addEventListener("click", () => {
      currentId = id;
      saveCurrent();
      render();
    });
    const del = document.createElement("button");
    del.type = "button";
    del.className = "delete";
    del.textContent = "\u00d7";
    del.setAttribute("aria-label", "Delete chat");
    del.disabled = running !== null;
    del.addEventListener("click", () => {
      storeChat(c, true);
      if (currentId === id) {
        currentId = chats.length ? chats[0].id : null;
        saveCurrent();
      }
      render();
    });
    li.append(open, del);
    ul.append(li);
  }
}

// Another tab wrote the chats: list them, and redraw the open chat if it changed there
// (the one streaming here stays as this tab has it).
window.addEventListener("storage", (e) => {
  if (e.storageArea !== localStorage || (e.key !== KEYS.chats && e.key !== null)) return;
  adopt(readChats().list);
  const open = chats.find((c) => c.id === currentId);
  if (running || (open && drawn(open) === shown)) {
    renderSidebar();
    return;
  }
  if (!open) currentId = chats.length ? chats[0].id : null; // deleted there
  render();
});

// messageView builds one message's element; every piece of text goes in as text.
function messageView(m) {
  const div = document.createElement("div");
  div.className = "msg " + (m.role === "user" ? "user" : "assistant");
  const who = document.createElement("div");
  who.className = "who";
  who.textContent = m.role === "user" ? "You" : "Model";
  const content = document.createElement("div");
  content.className = "content";
  content.textContent = typeof m.content === "string" ? m.content : "";
  const stats = document.createElement("div");
  stats.className = "stats";
  // partial and not streaming here: its tab closed without a word, or is writing it still.
  const note = m.partial && !(running && running.answer === m) ? "unfinished" : m.note;
  stats.textContent = [note, m.stats].filter(Boolean).join(" \u00b7 ");
  div.append(who, content, stats);
  return div;
}

function render() {
  const c = currentChat();
  renderSidebar();
  $("system").value = c.system || "";
  const box = $("messages");
  box.replaceChildren();
  if (c.messages.length === 0) {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = "Pick a model and say something. Conversations stay in this browser.";
    box.append(p);
  }
  for (const m of c.messages) box.append(messageView(m));
  box.scrollTop = box.scrollHeight;
  shown = drawn(c);
}

// --- answering -----------------------------------------------------------------------------

function setRunning(r) {
  running = r;
  $("send").hidden = r !== null;
  $("stop").hidden = r === null;
  $("new-chat").disabled = r !== null;
  renderSidebar();
}

async function modelContext(model) {
  if (!contextLength.has(model)) {
    const ps = await (await api("/api/ps")).json();
    for (const m of ps.models || []) contextLength.set(m.name, m.context_length);
  }
  return contextLength.get(model);
}

// speedParts: the answer's tokens and speed (timed here, from its first token). The counts
// are the stream's: olm serve puts the tokens so far in every chunk (the page asks for
// continuous_usage_stats), so an answer stopped half-way has them too. A chunk may carry
// several tokens: counting chunks would not count tokens.
function speedParts(r) {
  const u = r.usage;
  if (!u || typeof u.completion_tokens !== "number") return [];
  const n = u.completion_tokens;
  let speed = "";
  if (r.tFirst !== null && n > r.nFirst && r.tLast > r.tFirst) speed = ((n - r.nFirst) / ((r.tLast - r.tFirst) / 1000)).toFixed(1) + " tokens/s";
  else if (r.tLast > r.t0) speed = (n / ((r.tLast - r.t0) / 1000)).toFixed(1) + " tokens/s";
  const parts = [n + " tokens", speed];
  if (r.tFirst !== null) parts.push("first after " + ((r.tFirst - r.t0) / 1000).toFixed(2) + " s");
  return parts.filter(Boolean);
}

// statsText adds how much of the slot's context the conversation now takes.
async function statsText(model, r) {
  const parts = speedParts(r);
  if (parts.length === 0) return "";
  let ctx = "";
  try {
    ctx = await modelContext(model);
  } catch {}
  if (typeof r.usage.total_tokens === "number") parts.push("context " + r.usage.total_tokens + (ctx ? " of " + ctx : "") + " tokens");
  return parts.join(" \u00b7 ");
}

// turns is the conversation as the API takes it: empty messages left out, a user first,
// and never one role twice in a row (two questions, when the answer between them was lost
// with its tab, go as one), which templates that insist on turns (Mistral's) need.
function turns(messages) {
  const out = [];
  for (const m of messages) {
    if (!m.content || (out.length === 0 && m.role !== "user")) continue;
    const last = out[out.length - 1];
    if (last && last.role === m.role) last.content += "\n\n" + m.content;
    else out.push({ role: m.role, content: m.content });
  }
  return out;
}

let saveTimer = null;

// saveSoon stores the answer being streamed at most every 250 ms: a tab that dies loses
// at most that much of it.
function saveSoon() {
  if (saveTimer === null) saveTimer = setTimeout(saveRunning, 250);
}

function saveRunning() {
  clearTimeout(saveTimer);
  saveTimer = null;
  if (running) storeChat(running.chat);
}

async function send(text) {
  const chat = currentChat();
  const s = settings();
  if (!s.model) {
    showError("No model to answer: pull one (olm pull qwen) and press Retry.");
    return;
  }
  clearError();
  saveSettings();
  chat.system = $("system").value;
  const user = { role: "user", content: text };
  const history = turns([...chat.messages, user]);
  const answer = { role: "assistant", content: "", partial: true };
  chat.messages.push(user, answer);
  if (!chat.title) chat.title = text.slice(0, 60);
  chat.updated = Date.now();
  const r = { controller: new AbortController(), chat, answer, usage: null, t0: performance.now(), tFirst: null, tLast: 0, nFirst: 1 };
  r.tLast = r.t0;
  setRunning(r);
  storeChat(chat);
  render();
  const view = $("messages").lastElementChild;
  const content = view.querySelector(".content");
  view.classList.add("streaming");

  const messages = [];
  if (chat.system.trim()) messages.push({ role: "system", content: chat.system });
  messages.push(...history);
  const body = { model: s.model, messages, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } };
  for (const k of ["temperature", "top_p", "max_tokens"]) if (s[k] !== undefined) body[k] = s[k];

  let finish = null;
  let failure = null;
  try {
    const resp = await api("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: r.controller.signal,
    });
    for await (const data of sseData(resp)) {
      if (data === "[DONE]") break;
      const ev = JSON.parse(data);
      if (ev.error) throw new UserError("olm serve: " + (ev.error.message || String(ev.error)));
      if (ev.usage) r.usage = ev.usage;
      const choice = ev.choices && ev.choices[0];
      if (!choice) continue;
      const piece = choice.delta && choice.delta.content;
      if (typeof piece === "string" && piece !== "") {
        r.tLast = performance.now();
        if (r.tFirst === null) {
          r.tFirst = r.tLast;
          if (ev.usage && typeof ev.usage.completion_tokens === "number") r.nFirst = ev.usage.completion_tokens;
        }
        answer.content += piece;
        content.append(piece); // a text node: never parsed as HTML
        const box = $("messages");
        box.scrollTop = box.scrollHeight;
        saveSoon();
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (!finish) throw new UserError("The answer was cut off: olm serve closed the stream early.");
  } catch (e) {
    failure = e;
  }
  clearTimeout(saveTimer);
  saveTimer = null;
  if (leaving) return; // pagehide stored what came
  view.classList.remove("streaming");
  delete answer.partial;
  const stopped = failure && failure.name === "AbortError";
  if (failure && !stopped) showError(failure instanceof UserError ? failure.message : "Error: " + failure.message);
  if (!answer.content) {
    // Nothing came back: take the turn back, so the conversation stays user/assistant pairs.
    chat.messages.splice(chat.messages.indexOf(user), 2);
    if (chat.messages.length === 0) chat.title = "";
    $("input").value = text;
    setRunning(null);
    storeChat(chat);
    render();
    return;
  }
  if (stopped) answer.note = "stopped";
  else if (failure) answer.note = "cut off by an error";
  else if (finish === "length") answer.note = "max tokens reached";
  answer.stats = speedParts(r).join(" \u00b7 ");
  storeChat(chat); // at once: the context size below asks the server first
  answer.stats = await statsText(s.model, r);
  setRunning(null);
  storeChat(chat);
  shown = drawn(chat); // the open chat: another tab's write need not redraw it
  view.querySelector(".stats").textContent = [answer.note, answer.stats].filter(Boolean).join(" \u00b7 ");
  view.dataset.done = "true";
}

// The page goes away (reload, closed tab): its stream ends with it. Keep what came,
// marked, rather than an empty or unfinished answer.
window.addEventListener("pagehide", () => {
  if (!running || !running.answer.partial) return;
  leaving = true;
  const { chat, answer } = running;
  delete answer.partial;
  if (answer.content) {
    answer.note = "interrupted";
    answer.stats = speedParts(running).join(" \u00b7 ");
  } else {
    chat.messages.splice(chat.messages.indexOf(answer), 1);
  }
  saveRunning();
});

// Back from the back-forward cache after pagehide ended its stream: show what was stored.
window.addEventListener("pageshow", (e) => {
  if (e.persisted && leaving) location.reload();
});

// A hidden tab may be discarded without a pagehide: store what came so far.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") saveRunning();
});

// --- wiring ----------------------------------------------------------------------------------

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("input").value;
  if (running || !text.trim()) return;
  $("input").value = "";
  send(text);
});

$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $("composer").requestSubmit();
  }
});

$("stop").addEventListener("click", () => {
  if (running) running.controller.abort(); // the server sees the client go and frees the slot
});

$("new-chat").addEventListener("click", () => {
  const c = chats.find((c) => c.id === currentId);
  if (!c || c.messages.length > 0) newChat();
  render();
  $("input").focus();
});

$("system").addEventListener("input", () => {
  const c = currentChat();
  c.system = $("system").value;
  storeChat(c);
  shown = drawn(c);
});

$("settings").addEventListener("submit", (e) => e.preventDefault());
$("settings").addEventListener("change", saveSettings);
$("retry").addEventListener("click", loadModels);

$("notice-close").addEventListener("click", () => {
  $("notice").hidden = true;
});

// Start: the models load whatever the stored chats hold; a chat that cannot be drawn is
// said, not a dead page.
restoreSettings();
loadModels();
try {
  loadStored();
  render();
} catch (e) {
  showNotice("The stored chats could not be shown (" + e.message + "): they are kept in this browser's localStorage as " + KEYS.chats + ".");
}
