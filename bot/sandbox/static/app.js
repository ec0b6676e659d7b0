// Mahalleyar sandbox page. Plain JS, no build step. Every piece of text from the bot or a
// user is put into the page with textContent (never parsed as HTML): "<script>" stays text.
"use strict";

const S = {
  people: [],
  current: null,          // key of the selected person
  chat: null,             // {person, messages, keyboard, commands}
  unread: {},             // chat_id -> count
  replyTo: null,          // message id
  keyboardHidden: false,
  faDigits: new Intl.NumberFormat("fa-IR", { useGrouping: false }),
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: body instanceof FormData ? { "X-Sandbox": "1" }
      : { "Content-Type": "application/json", "X-Sandbox": "1" },
    body: body instanceof FormData ? body : JSON.stringify(body),
  };
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (!response.ok) {
    const message = (data && data.error) || response.statusText;
    toast("خطا: " + message, false);
    throw new Error(message);
  }
  return data;
}

// ------------------------------------------------------------------ people list

function personByChat(chatId) { return S.people.find((p) => p.chat_id === chatId); }

function initials(name) { return (name || "?").trim().charAt(0); }

function renderPeople() {
  const list = $("people-list");
  list.replaceChildren();
  for (const person of S.people) {
    const unread = S.unread[person.chat_id] || 0;
    const button = el("button", {
      type: "button", class: "person" + (person.key === S.current ? " active" : ""),
      dataset: { person: person.key, kind: person.kind },
      onclick: () => select(person.key),
    },
      el("span", { class: "avatar k-" + person.kind, text: initials(person.name) }),
      el("span", { class: "who" },
        el("div", { text: person.name }),
        el("div", { class: "muted small", text: person.role_fa })),
      unread ? el("span", { class: "badge", text: S.faDigits.format(unread) }) : null);
    list.append(el("li", {}, button));
  }
}

async function loadState() {
  const state = await api("/api/state");
  S.people = state.people;
  showClock(state.clock);
  if (!S.current || !S.people.some((p) => p.key === S.current)) S.current = null;
  renderPeople();
  if (S.current) await loadChat();
}

async function select(key) {
  S.current = key;
  S.replyTo = null;
  $("layout").dataset.view = "chat";
  const person = S.people.find((p) => p.key === key);
  if (person) S.unread[person.chat_id] = 0;
  renderPeople();
  await loadChat();
  $("text").focus();
}

async function loadChat() {
  const key = S.current;
  const chat = await api("/api/chat?key=" + encodeURIComponent(key));
  if (key !== S.current) return;
  S.chat = chat;
  renderChat();
}

// ------------------------------------------------------------------ chat

function renderChat() {
  const { person, messages } = S.chat;
  $("chat-name").textContent = person.name;
  $("chat-role").textContent = person.role_fa;
  const avatar = $("chat-avatar");
  avatar.className = "avatar k-" + person.kind;
  avatar.textContent = initials(person.name);
  const box = $("messages");
  box.replaceChildren();
  const shown = messages.filter((m) => !m.deleted);
  if (!shown.length) {
    box.append(el("div", { class: "empty", text: "هنوز پیامی نیست. برای شروع /start را بفرستید." }));
  }
  for (const message of shown) box.append(renderMessage(message));
  renderKeyboard();
  renderCommands();
  renderReplying();
  scrollDown();
}

function scrollDown() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

const ENTITY_TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  spoiler: "span", blockquote: "blockquote", expandable_blockquote: "blockquote",
};

// Text with Telegram entities (UTF-16 offsets, like JS strings) as nested safe elements.
function formatted(text, entities) {
  const root = el("div", { class: "text", dir: "auto" });
  const usable = (entities || []).filter((e) => ENTITY_TAGS[e.type] || e.type === "text_link"
    || e.type === "url");
  const cuts = new Set([0, text.length]);
  for (const e of usable) { cuts.add(e.offset); cuts.add(Math.min(text.length, e.offset + e.length)); }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [start, end] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(start, end));
    for (const e of usable) {
      if (e.offset > start || e.offset + e.length < end) continue;
      let wrap;
      if (e.type === "text_link" || e.type === "url") {
        const href = e.type === "url" ? text.slice(e.offset, e.offset + e.length) : e.url;
        wrap = /^https?:\/\//i.test(href || "")
          ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span");
      } else {
        wrap = el(ENTITY_TAGS[e.type], e.type === "spoiler"
          ? { class: "spoiler", onclick: (ev) => ev.currentTarget.classList.add("shown") } : {});
      }
      wrap.append(node);
      node = wrap;
    }
    root.append(node);
  }
  return root;
}

function snippet(message) {
  if (!message) return "";
  if (message.text) return message.text.slice(0, 80);
  if (message.caption) return message.caption.slice(0, 80);
  if (message.photo) return "📷 عکس";
  if (message.document) return "📄 " + (message.document.file_name || "فایل");
  if (message.location) return "📍 موقعیت";
  if (message.voice) return "🎤 پیام صوتی";
  if (message.audio) return "🎵 فایل صوتی";
  if (message.video) return "🎬 ویدیو";
  if (message.contact) return "📞 " + message.contact.phone_number;
  return "…";
}

function fileUrl(fileId) { return "/api/file/" + encodeURIComponent(fileId); }

function timeOf(message) {
  try {
    return new Date(message.date * 1000).toLocaleTimeString("fa-IR", {
      timeZone: "Asia/Tehran", hour: "2-digit", minute: "2-digit" });
  } catch (err) { return ""; }
}

function renderMessage(message) {
  const mine = !message.from_bot;
  const isGroup = S.chat.person.chat_id < 0;
  const bubble = el("div", { class: "bubble" });
  if (isGroup) {
    bubble.append(el("div", { class: "sender", text: (message.from || {}).first_name || "" }));
  }
  if (message.reply_to_message) {
    bubble.append(el("div", { class: "quote", dir: "auto", text: snippet(message.reply_to_message) }));
  }
  if (message.photo && message.photo.length) {
    const best = message.photo[message.photo.length - 1];
    bubble.append(el("a", { href: fileUrl(best.file_id), target: "_blank", rel: "noopener" },
      el("img", { class: "photo", src: fileUrl(best.file_id), alt: "عکس" })));
  }
  if (message.document && !message.animation) {
    bubble.append(el("a", { class: "file", href: fileUrl(message.document.file_id),
      download: message.document.file_name || "file",
      text: "📄 " + (message.document.file_name || "فایل") }));
  }
  if (message.location) {
    bubble.append(el("div", { class: "text", text: "📍 موقعیت: " +
      message.location.latitude + "، " + message.location.longitude }));
  }
  if (message.contact) {
    bubble.append(el("div", { class: "text", text: "📞 " + message.contact.phone_number +
      " (" + (message.contact.first_name || "") + ")" }));
  }
  if (message.sticker) bubble.append(el("div", { class: "text", text: message.sticker.emoji || "🖼" }));
  // Voice notes, audio and video: a download link to the stored file (no player needed).
  const media = [["voice", "🎤 پیام صوتی"], ["audio", "🎵 فایل صوتی"], ["video", "🎬 ویدیو"]];
  for (const [key, label] of media) {
    const item = message[key];
    if (!item) continue;
    bubble.append(el("a", { class: "file", href: fileUrl(item.file_id),
      download: item.file_name || key, text: label + (item.file_name ? " " + item.file_name : "") }));
  }
  if (message.animation) bubble.append(el("div", { class: "text", text: "🎞 گیف" }));
  if (message.text !== undefined) bubble.append(formatted(message.text, message.entities));
  if (message.caption) bubble.append(formatted(message.caption, message.caption_entities));
  bubble.append(el("div", { class: "meta" },
    el("button", { type: "button", class: "reply-btn", title: "پاسخ به این پیام",
      onclick: () => { S.replyTo = message.message_id; renderReplying(); $("text").focus(); },
      text: "↩ پاسخ" }),
    message.edits ? el("span", { text: "ویرایش‌شده" }) : null,
    el("span", { text: timeOf(message) })));
  const node = el("div", {
    class: "msg " + (mine ? "user" : "bot"),
    dataset: { id: message.message_id, from: mine ? "user" : "bot" },
  }, bubble);
  const rows = ((message.reply_markup || {}).inline_keyboard) || [];
  if (rows.length && message.from_bot) {
    const kb = el("div", { class: "inline-kb" });
    for (const row of rows) {
      const line = el("div", { class: "inline-row" });
      for (const button of row) line.append(inlineButton(message, button));
      kb.append(line);
    }
    node.append(kb);
  }
  return node;
}

function inlineButton(message, button) {
  if (button.url) {
    return el("a", { class: "inline-btn", href: /^https?:\/\//i.test(button.url) ? button.url : "#",
      target: "_blank", rel: "noopener noreferrer", text: button.text + " ↗" });
  }
  return el("button", {
    type: "button", class: "inline-btn", text: button.text,
    dataset: { data: button.callback_data || "" },
    onclick: () => act({ action: "press", message_id: message.message_id,
      data: button.callback_data }),
  });
}

function upsertMessage(message) {
  const box = $("messages");
  const existing = box.querySelector(`.msg[data-id="${message.message_id}"]`);
  if (message.deleted) { if (existing) existing.remove(); return; }
  const node = renderMessage(message);
  if (existing) existing.replaceWith(node);
  else {
    const empty = box.querySelector(".empty");
    if (empty) empty.remove();
    box.append(node);
  }
  const list = S.chat.messages;
  const index = list.findIndex((m) => m.message_id === message.message_id);
  if (index >= 0) list[index] = message; else list.push(message);
  scrollDown();
}

// ------------------------------------------------------------------ reply keyboard, commands

function renderKeyboard() {
  const markup = S.chat && S.chat.keyboard;
  const box = $("keyboard");
  box.replaceChildren();
  const rows = (markup && markup.keyboard) || [];
  $("kb-toggle").hidden = !rows.length;
  box.hidden = !rows.length || S.keyboardHidden;
  for (const row of rows) {
    const line = el("div", { class: "kb-row" });
    for (const raw of row) {
      const button = typeof raw === "string" ? { text: raw } : raw;
      const special = button.request_contact || button.request_location;
      line.append(el("button", {
        type: "button", class: "kb-btn" + (special ? " special" : ""), text: button.text,
        onclick: () => {
          if (button.request_contact) act({ action: "contact" });
          else if (button.request_location) act({ action: "location" });
          else act({ action: "text", text: button.text });
        },
      }));
    }
    box.append(line);
  }
}

function renderCommands() {
  const box = $("commands");
  box.replaceChildren();
  const commands = (S.chat && S.chat.commands) || [];
  for (const command of commands) {
    box.append(el("button", {
      type: "button", class: "cmd-item", dataset: { command: command.command },
      onclick: () => { box.hidden = true; act({ action: "text", text: "/" + command.command }); },
    }, el("span", { class: "cmd", text: "/" + command.command }),
       el("span", { text: command.description })));
  }
  if (!commands.length) box.append(el("div", { class: "muted small", text: "فرمانی تعریف نشده است." }));
}

function renderReplying() {
  const bar = $("replying");
  if (!S.replyTo || !S.chat) { bar.hidden = true; return; }
  const target = S.chat.messages.find((m) => m.message_id === S.replyTo);
  $("replying-text").textContent = snippet(target);
  bar.hidden = false;
}

// ------------------------------------------------------------------ actions

async function act(body) {
  if (!S.current) return;
  await api("/api/act", { key: S.current, ...body });
}

async function sendText(event) {
  event.preventDefault();
  const input = $("text");
  const text = input.value;
  if (!text.trim() || !S.current) return;
  const body = { action: "text", text };
  if (S.replyTo) body.reply_to = S.replyTo;
  input.value = "";
  S.replyTo = null;
  renderReplying();
  try { await act(body); } catch (err) { input.value = text; }
}

async function sendPhoto() {
  const input = $("photo-input");
  const file = input.files && input.files[0];
  if (!file || !S.current) return;
  const form = new FormData();
  form.append("key", S.current);
  form.append("caption", $("text").value);
  form.append("file", file, file.name || "photo.jpg");
  if (S.replyTo) form.append("reply_to", String(S.replyTo));
  S.replyTo = null;
  renderReplying();
  $("text").value = "";
  input.value = "";
  await api("/api/photo", form);
}

function toast(text, alert) {
  const box = $("toast");
  box.textContent = text;
  box.className = "toast" + (alert ? " alert" : "");
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 2500);
}

// ------------------------------------------------------------------ clock and reset

function showClock(clock) {
  $("clock-now").textContent = (clock.weekday_fa ? clock.weekday_fa + " " : "") + clock.fa;
  $("clock-now").title = (clock.weekday_en ? clock.weekday_en + " " : "") + clock.en;
  const hours = clock.offset_hours;
  $("clock-offset").textContent = hours ? "(" + S.faDigits.format(hours) + "+ ساعت)" : "";
  const office = $("clock-office");
  if ("office_open" in clock) {
    office.textContent = clock.office_open ? "· وقت اداری" :
      "· بیرون از وقت اداری" + (clock.holiday_fa ? " (تعطیل: " + clock.holiday_fa + ")" : "");
    office.className = clock.office_open ? "office-open" : "muted";
  }
  const box = $("clock-buttons");
  if (!box.childElementCount) {
    for (const step of clock.steps) {
      box.append(el("button", {
        type: "button", dataset: { hours: step }, title: "جلو بردن ساعت ربات",
        text: "+" + S.faDigits.format(step) + " ساعت",
        onclick: async () => showClock((await api("/api/clock", { hours: step })).clock),
      }));
    }
    box.append(el("button", {
      type: "button", id: "clock-morning", title: "آغاز وقت اداری روز کاری بعد",
      text: "صبح روز کاری بعد",
      onclick: async () => showClock((await api("/api/clock", { to: "morning" })).clock),
    }));
  }
}

function armReset() {
  const button = $("reset");
  if (!button.classList.contains("armed")) {
    button.classList.add("armed");
    button.textContent = "همه پاک شود؟ دوباره بزنید";
    setTimeout(() => { button.classList.remove("armed"); button.textContent = "شروع دوباره"; }, 4000);
    return;
  }
  button.classList.remove("armed");
  button.textContent = "در حال شروع دوباره…";
  api("/api/reset", {}).finally(() => { button.textContent = "شروع دوباره"; });
}

// ------------------------------------------------------------------ live events (SSE)

function onEvent(event) {
  if (event.type === "reset") {
    S.unread = {}; S.current = null; S.chat = null;
    $("layout").dataset.view = "list";
    $("messages").replaceChildren(el("div", { class: "empty",
      text: "همه‌چیز از نو شروع شد. یک نفر را انتخاب کنید." }));
    $("keyboard").hidden = true;
    loadState();
    return;
  }
  if (event.type === "people") { loadState(); return; }
  if (event.type === "clock") { api("/api/clock").then((d) => showClock(d.clock)); return; }
  const isCurrent = S.chat && event.chat_id === S.chat.person.chat_id;
  if (event.type === "message" || event.type === "edit" || event.type === "delete") {
    if (isCurrent) upsertMessage(event.message);
    else if (event.type === "message" && event.message.from_bot) {
      S.unread[event.chat_id] = (S.unread[event.chat_id] || 0) + 1;
      renderPeople();
    }
  } else if (event.type === "keyboard" && isCurrent) {
    S.chat.keyboard = event.keyboard;
    renderKeyboard();
  } else if (event.type === "callback_answer" && isCurrent && event.text) {
    toast(event.text, event.show_alert);
  }
}

function connect() {
  const source = new EventSource("/api/events");
  source.onopen = () => {
    $("live").className = "live on";
    document.body.dataset.live = "1";
    if (S.current) loadChat();           // catch up on anything missed while disconnected
  };
  source.onerror = () => { $("live").className = "live off"; document.body.dataset.live = "0"; };
  source.onmessage = (message) => {
    try { onEvent(JSON.parse(message.data)); } catch (err) { console.error(err); }
  };
}

// ------------------------------------------------------------------ wiring

document.addEventListener("DOMContentLoaded", () => {
  $("composer").addEventListener("submit", sendText);
  $("back").addEventListener("click", () => { $("layout").dataset.view = "list"; });
  $("add-resident").addEventListener("click", async () => {
    const data = await api("/api/residents", {});
    await loadState();
    await select(data.person.key);
  });
  $("cmd-btn").addEventListener("click", () => {
    $("attach-menu").hidden = true;
    $("commands").hidden = !$("commands").hidden;
  });
  $("attach-btn").addEventListener("click", () => {
    $("commands").hidden = true;
    $("attach-menu").hidden = !$("attach-menu").hidden;
  });
  $("attach-photo").addEventListener("click", () => { $("attach-menu").hidden = true; $("photo-input").click(); });
  $("attach-location").addEventListener("click", () => { $("attach-menu").hidden = true; act({ action: "location" }); });
  $("attach-contact").addEventListener("click", () => { $("attach-menu").hidden = true; act({ action: "contact" }); });
  $("photo-input").addEventListener("change", sendPhoto);
  $("replying-cancel").addEventListener("click", () => { S.replyTo = null; renderReplying(); });
  $("kb-toggle").addEventListener("click", () => { S.keyboardHidden = !S.keyboardHidden; renderKeyboard(); });
  $("reset").addEventListener("click", armReset);
  setInterval(() => api("/api/clock").then((d) => showClock(d.clock)).catch(() => {}), 30000);
  loadState().then(() => {
    document.body.dataset.ready = "1";
    if (window.matchMedia("(min-width: 721px)").matches && S.people.length) select(S.people[0].key);
  });
  connect();
});
