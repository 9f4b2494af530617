// olm's chat page: plain JavaScript, no libraries, nothing loaded from another host.
//
// Model output is untrusted. It reaches the page only as text (textContent and text nodes,
// shown with white-space: pre-wrap), never as HTML; the server's Content-Security-Policy
// forbids inline scripts and handlers besides.
"use strict";

const $ = (id) => document.getElementById(id);

// Everything the page keeps lives in localStorage under these keys.
const KEYS = { chats: "olm.chats", current: "olm.current", settings: "olm.settings", apiKey: "olm.apiKey" };

function load(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : JSON.parse(v);
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    showError("This browser's storage is full (" + e.message + "): delete old chats.");
  }
}

// A chat: {id, title, system, messages: [{role, content, stats?, note?}], updated}.
let chats = load(KEYS.chats, []);
if (!Array.isArray(chats)) chats = [];
chats = chats.filter((c) => c && typeof c.id === "string" && Array.isArray(c.messages));
let currentId = load(KEYS.current, null);
let running = null; // the AbortController of the answer being streamed
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

// --- the API -------------------------------------------------------------------------

// api calls olm serve with the stored key; a 401 asks for the key and tries again.
async function api(path, opts = {}) {
  for (;;) {
    const headers = Object.assign({}, opts.headers);
    const key = load(KEYS.apiKey, "");
    if (key) headers.Authorization = "Bearer " + key;
    let resp;
    try {
      resp = await fetch(path, Object.assign({}, opts, { headers }));
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new UserError("Cannot reach olm serve at " + location.origin + ": is it running? Start it with: olm serve");
    }
    if (resp.status === 401) {
      await askKey(key ? "That key was refused: try again." : "");
      continue;
    }
    if (!resp.ok) throw new UserError(await errorText(resp));
    return resp;
  }
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
    const { value, done } = await reader.read();
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
  const wanted = select.value || load(KEYS.settings, {}).model;
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
  const s = load(KEYS.settings, {});
  const put = (id, v) => {
    if (typeof v === "number" && isFinite(v)) $(id).value = String(v);
  };
  put("temperature", s.temperature);
  put("top-p", s.top_p);
  put("max-tokens", s.max_tokens);
}

// --- chats -------------------------------------------------------------------------------

function currentChat() {
  let c = chats.find((c) => c.id === currentId);
  if (!c) c = newChat();
  return c;
}

function newChat() {
  const prev = chats.find((c) => c.id === currentId);
  const c = { id: Date.now().toString(36) + Math.random().toString(36).slice(2, 8), title: "", system: prev ? prev.system : "", messages: [], updated: Date.now() };
  chats.unshift(c);
  currentId = c.id;
  persist();
  return c;
}

function persist() {
  save(KEYS.chats, chats);
  save(KEYS.current, currentId);
}

function renderSidebar() {
  const ul = $("chats");
  ul.replaceChildren();
  for (const c of chats) {
    const li = document.createElement("li");
    li.className = c.id === currentId ? "chat current" : "chat";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.textContent = c.title || "New chat";
    open.title = c.title || "New chat";
    open.disabled = running !== null;
    open.addEventListener("click", () => {
      currentId = c.id;
      persist();
      render();
    });
    const del = document.createElement("button");
    del.type = "button";
    del.className = "delete";
    del.textContent = "\u00d7";
    del.setAttribute("aria-label", "Delete chat");
    del.disabled = running !== null;
    del.addEventListener("click", () => {
      chats = chats.filter((x) => x !== c);
      if (currentId === c.id) currentId = chats.length ? chats[0].id : null;
      persist();
      render();
    });
    li.append(open, del);
    ul.append(li);
  }
}

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
  stats.textContent = [m.note, m.stats].filter(Boolean).join(" \u00b7 ");
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
}

// --- answering -----------------------------------------------------------------------------

function setRunning(controller) {
  running = controller;
  $("send").hidden = controller !== null;
  $("stop").hidden = controller === null;
  $("new-chat").disabled = controller !== null;
  renderSidebar();
}

async function modelContext(model) {
  if (!contextLength.has(model)) {
    const ps = await (await api("/api/ps")).json();
    for (const m of ps.models || []) contextLength.set(m.name, m.context_length);
  }
  return contextLength.get(model);
}

// statsText: the answer's speed (after its first token, measured here) and how much of the
// slot's context the conversation now takes (the usage the stream ends with).
async function statsText(model, usage, t0, tFirst, tLast) {
  if (!usage) return "";
  const n = usage.completion_tokens;
  let speed = "";
  if (n > 1 && tLast > tFirst) speed = ((n - 1) / ((tLast - tFirst) / 1000)).toFixed(1) + " tokens/s";
  else if (tLast > t0) speed = (n / ((tLast - t0) / 1000)).toFixed(1) + " tokens/s";
  const parts = [n + " tokens", speed];
  if (tFirst !== null) parts.push("first after " + ((tFirst - t0) / 1000).toFixed(2) + " s");
  let ctx = "";
  try {
    ctx = await modelContext(model);
  } catch {}
  parts.push("context " + usage.total_tokens + (ctx ? " of " + ctx : "") + " tokens");
  return parts.filter(Boolean).join(" \u00b7 ");
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
  const history = chat.messages.filter((m) => m.content).map((m) => ({ role: m.role, content: m.content }));
  const user = { role: "user", content: text };
  const answer = { role: "assistant", content: "" };
  chat.messages.push(user, answer);
  if (!chat.title) chat.title = text.slice(0, 60);
  chat.updated = Date.now();
  chats = [chat, ...chats.filter((c) => c !== chat)];
  persist();
  render();
  const view = $("messages").lastElementChild;
  const content = view.querySelector(".content");
  view.classList.add("streaming");

  const messages = [];
  if (chat.system.trim()) messages.push({ role: "system", content: chat.system });
  messages.push(...history, { role: "user", content: text });
  const body = { model: s.model, messages, stream: true, stream_options: { include_usage: true } };
  for (const k of ["temperature", "top_p", "max_tokens"]) if (s[k] !== undefined) body[k] = s[k];

  const controller = new AbortController();
  setRunning(controller);
  const t0 = performance.now();
  let tFirst = null;
  let tLast = t0;
  let usage = null;
  let finish = null;
  let failure = null;
  try {
    const resp = await api("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    for await (const data of sseData(resp)) {
      if (data === "[DONE]") break;
      const ev = JSON.parse(data);
      if (ev.error) throw new UserError("olm serve: " + (ev.error.message || String(ev.error)));
      if (ev.usage) usage = ev.usage;
      const choice = ev.choices && ev.choices[0];
      if (!choice) continue;
      const piece = choice.delta && choice.delta.content;
      if (typeof piece === "string" && piece !== "") {
        tLast = performance.now();
        if (tFirst === null) tFirst = tLast;
        answer.content += piece;
        content.append(piece); // a text node: never parsed as HTML
        const box = $("messages");
        box.scrollTop = box.scrollHeight;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (!finish) throw new UserError("The answer was cut off: olm serve closed the stream early.");
  } catch (e) {
    failure = e;
  }
  setRunning(null);
  view.classList.remove("streaming");
  const stopped = failure && failure.name === "AbortError";
  if (failure && !stopped) showError(failure instanceof UserError ? failure.message : "Error: " + failure.message);
  if (!answer.content) {
    // Nothing came back: take the turn back, so the conversation stays user/assistant pairs.
    chat.messages.splice(chat.messages.indexOf(user), 2);
    if (chat.messages.length === 0) chat.title = "";
    $("input").value = text;
    persist();
    render();
    return;
  }
  if (stopped) answer.note = "stopped";
  else if (failure) answer.note = "cut off by an error";
  else if (finish === "length") answer.note = "max tokens reached";
  answer.stats = await statsText(s.model, usage, t0, tFirst, tLast);
  persist();
  view.querySelector(".stats").textContent = [answer.note, answer.stats].filter(Boolean).join(" \u00b7 ");
  view.dataset.done = "true";
}

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
  if (running) running.abort(); // the server sees the client go and frees the slot
});

$("new-chat").addEventListener("click", () => {
  const c = chats.find((c) => c.id === currentId);
  if (!c || c.messages.length > 0) newChat();
  render();
  $("input").focus();
});

$("system").addEventListener("input", () => {
  currentChat().system = $("system").value;
  persist();
});

$("settings").addEventListener("submit", (e) => e.preventDefault());
$("settings").addEventListener("change", saveSettings);
$("retry").addEventListener("click", loadModels);

restoreSettings();
render();
loadModels();
