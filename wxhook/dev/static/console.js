// The dev console's page: one chat per follower openid, replies drawn as WeChat draws them.
// Everything the bot sends is put on the page as text nodes (never as HTML), and only http(s) or local
// /media/ addresses become links, images or players: a reply cannot run script here.
"use strict";

const $ = (selector) => document.querySelector(selector);
const chats = new Map();  // openid -> the chat's element
let info = { safe_mode: false, menu: [] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function safeUrl(value) {
  if (typeof value !== "string" || value.trim() === "") return null;
  try {
    const url = new URL(value, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

const mediaUrl = (mediaId) => `/media/${encodeURIComponent(mediaId || "")}`;

// ---- followers and their chats ----------------------------------------------------------------------

function currentOpenid() { return $("#openid").value; }
function currentMode() { return document.querySelector('input[name="mode"]:checked').value; }

function chatFor(openid) {
  let chat = chats.get(openid);
  if (!chat) {
    chat = el("div", { class: "chat", "data-openid": openid, hidden: true },
      el("p", { class: "empty-chat" }, "Say hello, follow, or press a menu button."));
    chats.set(openid, chat);
    $("#chats").append(chat);
    if (![...$("#openid").options].some((option) => option.value === openid)) {
      $("#openid").append(el("option", { value: openid }, openid));
    }
  }
  return chat;
}

function showChat(openid) {
  for (const [id, chat] of chats) chat.hidden = id !== openid;
  $("#openid").value = openid;
  $("#who").textContent = openid;
  $("#typing").hidden = true;
  scrollDown();
}

function scrollDown() { const box = $("#chats"); box.scrollTop = box.scrollHeight; }

function append(openid, node) {
  const chat = chatFor(openid);
  chat.querySelector(".empty-chat")?.remove();
  chat.append(node);
  if (openid === currentOpenid()) scrollDown();
  return node;
}

// ---- drawing ---------------------------------------------------------------------------------------------

function rawView(label, sections) {
  const blocks = sections.filter(([, text]) => text)
    .map(([title, text]) => el("div", { class: "xml-block" }, el("h4", {}, title), el("pre", {}, text)));
  return blocks.length ? el("details", { class: "raw" }, el("summary", {}, label), blocks) : null;
}

function message(direction, bubbleNode, extras = []) {
  const avatar = el("div", { class: "avatar", "aria-hidden": "true" }, direction === "in" ? "OA" : initial(currentOpenid()));
  return el("div", { class: `msg ${direction}` }, avatar, el("div", { class: "stack" }, bubbleNode, extras));
}

function initial(openid) {
  return (openid.replace(/^o_/, "")[0] || "?").toUpperCase();
}

function note(text, kind = "") {
  return el("div", { class: `note ${kind}`.trim(), "data-kind": "note" }, text);
}

function imageBubble(mediaId, label) {
  const placeholder = el("div", { class: "placeholder" }, `[${label}] ${mediaId}`);
  const img = el("img", { class: "photo", src: mediaUrl(mediaId), alt: label });
  img.addEventListener("error", () => img.replaceWith(placeholder));
  return el("div", { class: "bubble media" }, img);
}

function articleLink(article, content) {
  const href = safeUrl(article.url);
  return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, content) : el("div", {}, content);
}

function picture(src, alt) {
  const url = safeUrl(src);
  if (!url) return null;
  const img = el("img", { src: url, alt, referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => img.remove());
  return img;
}

function newsBubble(articles) {
  const [first, ...rest] = articles;
  const cover = el("div", { class: "news-cover" }, picture(first.pic_url, ""),
    el("div", { class: "news-title" }, first.title));
  const body = first.description ? el("div", { class: "news-body" }, el("div", { class: "news-desc" }, first.description)) : null;
  const items = rest.map((article) => articleLink(article,
    el("div", { class: "news-item" }, el("span", {}, article.title), picture(article.pic_url, ""))));
  return el("div", { class: "bubble rich", "data-type": "news" }, articleLink(first, [cover, body]), items);
}

function mediaCard(icon, title, description, player, foot) {
  return el("div", { class: "bubble rich" },
    el("div", { class: "card-row" }, el("div", { class: "card-icon", "aria-hidden": "true" }, icon),
      el("div", { class: "card-text" }, el("strong", {}, title), description ? el("div", { class: "news-desc" }, description) : null)),
    player, el("div", { class: "card-foot" }, foot));
}

function replyBubble(bubble) {
  switch (bubble.type) {
    case "text":
      return el("div", { class: "bubble", "data-type": "text" }, bubble.content);
    case "image":
      return imageBubble(bubble.media_id, "image");
    case "voice":
      return mediaCard("◉", "Voice message", null, null, `media_id ${bubble.media_id}`);
    case "video": {
      const video = el("video", { controls: true, preload: "none", src: mediaUrl(bubble.media_id) });
      return mediaCard("▶", bubble.title || "Video", bubble.description, video, `media_id ${bubble.media_id}`);
    }
    case "music": {
      const src = safeUrl(bubble.hq_music_url) || safeUrl(bubble.music_url);
      const audio = src ? el("audio", { controls: true, preload: "none", src }) : null;
      return mediaCard("♪", bubble.title || "Music", bubble.description, audio, "Music");
    }
    case "news":
      return newsBubble(bubble.articles);
    default: {
      const payload = el("pre", { class: "payload" }, JSON.stringify(bubble.payload ?? bubble, null, 2));
      return el("div", { class: "bubble rich", "data-type": bubble.type },
        el("div", { class: "card-foot" }, `${bubble.type} message`), payload);
    }
  }
}

function drawReply(openid, result) {
  const reply = result.reply;
  const raw = rawView("XML", [
    [reply.encrypted ? "reply on the wire (sealed)" : "reply XML", reply.wire],
    ["reply XML, opened", reply.encrypted ? reply.xml : ""],
  ]);
  const seconds = `${reply.seconds.toFixed(2)} s`;
  if (reply.status !== 200) {
    append(openid, note(`HTTP ${reply.status}: ${reply.wire.trim()}`, "error"));
  } else if (!reply.bubble) {
    append(openid, el("div", { class: "stack center", "data-kind": "empty" },
      note(`no reply · success · ${seconds}`), raw));
  } else if (reply.bubble.type === "transfer_customer_service") {
    append(openid, el("div", { class: "stack center" },
      note("handed to customer service"), raw));
  } else {
    const node = message("in", replyBubble(reply.bubble), [el("span", { class: "tag" }, `passive · ${seconds}`), raw]);
    node.dataset.kind = "reply";
    node.dataset.source = "passive";
    append(openid, node);
  }
}

function drawDeferred(event) {
  const node = message("in", replyBubble(event.bubble), [
    el("span", { class: "tag deferred" }, "via customer-service API"),
    rawView("JSON", [["POST /cgi-bin/message/custom/send", event.raw]]),
  ]);
  node.dataset.kind = "reply";
  node.dataset.source = "deferred";
  append(event.openid, node);
}

// ---- talking to the backend -------------------------------------------------------------------------------

async function perform(action, outgoing) {
  const openid = currentOpenid();
  const shown = append(openid, outgoing);
  shown.classList.add("pending");
  let result;
  try {
    const response = await fetch("/api/send", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...action, openid, mode: currentMode() }),
    });
    result = await response.json();
    if (!response.ok) throw new Error(result.error || `HTTP ${response.status}`);
  } catch (error) {
    shown.classList.remove("pending");
    append(openid, note(String(error.message || error), "error"));
    return;
  }
  shown.classList.remove("pending");
  const sealed = result.request.encrypted ? [["request on the wire (sealed)", result.request.wire]] : [];
  const raw = rawView("XML", [["request XML", result.request.xml], ...sealed]);
  if (raw) (shown.querySelector(".stack") || shown).append(raw);
  drawReply(openid, result);
}

function outgoingText(text) {
  const node = message("out", el("div", { class: "bubble", "data-type": "text" }, text));
  node.dataset.kind = "sent";
  return node;
}

function outgoingNote(text) {
  return el("div", { class: "stack center", "data-kind": "sent" }, note(text));
}

// ---- the menu -------------------------------------------------------------------------------------------

function drawMenu(buttons) {
  const menu = $("#menu");
  menu.replaceChildren();
  for (const button of (buttons || []).slice(0, 3)) {
    const slot = el("div", { class: "menu-slot" });
    const children = Array.isArray(button.sub_button) ? button.sub_button : (button.sub_button?.list || []);
    if (children.length > 0) {
      const submenu = el("div", { class: "submenu", hidden: true },
        children.slice(0, 5).map((child) => el("button", { type: "button", onclick: () => { submenu.hidden = true; press(child); } }, child.name)));
      slot.append(submenu, el("button", {
        type: "button", class: "menu-button parent",
        onclick: () => {
          const open = submenu.hidden;
          document.querySelectorAll(".submenu").forEach((other) => { other.hidden = true; });
          submenu.hidden = !open;
        },
      }, button.name));
    } else {
      slot.append(el("button", { type: "button", class: "menu-button", onclick: () => press(button) }, button.name));
    }
    menu.append(slot);
  }
}

function press(button) {
  perform({ kind: "menu", button }, outgoingNote(`tapped “${button.name}”`));
}

// ---- wiring -------------------------------------------------------------------------------------------------

function describeBot() {
  const rows = [
    ["webhook", info.bot_path],
    ["appid", info.appid || "—"],
    ["deadline", `${info.deadline} s`],
    ["menu", info.menu.length ? `${info.menu.length} button(s), ${info.menu_source === "file" ? "from --menu" : "created by the bot"}` : "none"],
  ];
  $("#about").replaceChildren(...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  $("#mode-safe").disabled = !info.safe_mode;
  // A bot with an EncodingAESKey refuses plaintext (unless allow_plaintext), as WeChat then sends only sealed pushes.
  if (info.safe_mode) $("#mode-safe").checked = true;
  $("#mode-hint").textContent = info.safe_mode
    ? "Safe mode seals each message with the bot's EncodingAESKey and opens its replies."
    : "Safe mode needs the bot's aes_key and appid.";
}

function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "deferred") drawDeferred(event);
    else if (event.type === "typing" && event.openid === currentOpenid()) $("#typing").hidden = !event.on;
    else if (event.type === "menu") { info.menu = event.buttons; drawMenu(event.buttons); describeBot(); }
  });
  source.addEventListener("open", () => document.body.dataset.live = "true");
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function start() {
  for (const openid of ["o_alice", "o_bob", "o_carol"]) chatFor(openid);
  showChat("o_alice");
  $("#openid").addEventListener("change", () => showChat(currentOpenid()));
  $("#add-openid").addEventListener("submit", (event) => {
    event.preventDefault();
    const openid = $("#new-openid").value.trim();
    if (!openid) return;
    chatFor(openid);
    showChat(openid);
    $("#new-openid").value = "";
  });
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("#text").value;
    if (!text.trim()) return;
    $("#text").value = "";
    perform({ kind: "text", text }, outgoingText(text));
  });
  $("#follow").addEventListener("submit", (event) => {
    event.preventDefault();
    const scene = $("#follow-scene").value.trim();
    perform({ kind: "subscribe", scene }, outgoingNote(scene ? `followed by scanning QR scene ${scene}` : "followed the account"));
  });
  $("#unfollow").addEventListener("click", () => perform({ kind: "unsubscribe" }, outgoingNote("unfollowed the account")));
  $("#scan").addEventListener("submit", (event) => {
    event.preventDefault();
    const scene = $("#scan-scene").value.trim();
    perform({ kind: "scan", scene }, outgoingNote(`scanned QR scene ${scene}`));
  });
  $("#location").addEventListener("submit", (event) => {
    event.preventDefault();
    const [latitude, longitude, label] = [$("#lat").value, $("#lng").value, $("#place").value];
    const card = mediaCard("⌖", label || "Location", `${latitude}, ${longitude}`, null, "Location");
    perform({ kind: "location", latitude, longitude, label }, message("out", card));
  });
  $("#image").addEventListener("change", async () => {
    const file = $("#image").files[0];
    if (!file) return;
    $("#image").value = "";
    const data = await readFile(file);
    const preview = el("img", { class: "photo", src: URL.createObjectURL(file), alt: file.name });
    perform({ kind: "image", data, content_type: file.type || "image/jpeg" }, message("out", el("div", { class: "bubble media" }, preview)));
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".menu-slot")) document.querySelectorAll(".submenu").forEach((menu) => { menu.hidden = true; });
  });
  info = await (await fetch("/api/info")).json();
  describeBot();
  drawMenu(info.menu);
  listen();
  document.body.dataset.ready = "true";
}

start();
