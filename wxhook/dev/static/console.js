// The dev console's page: one chat per account and follower openid, replies drawn as WeChat draws them.
// Everything the bot sends is put on the page as text nodes (never as HTML), and only http(s) or local
// /media/ addresses become links, images or players: a reply cannot run script here.
"use strict";

const $ = (selector) => document.querySelector(selector);
const chats = new Map();  // [account, openid] as JSON -> the chat's element
let info = { accounts: [], platform: null };
let accounts = new Map();  // appid -> the account, as /api/info describes it

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

// ---- accounts, followers and their chats ----------------------------------------------------------------

function currentAccount() { return $("#account").value; }
function currentOpenid() { return $("#openid").value; }
function currentMode() { return document.querySelector('input[name="mode"]:checked').value; }
function isCurrent(account, openid) { return account === currentAccount() && openid === currentOpenid(); }

function chatFor(account, openid) {
  const key = JSON.stringify([account, openid]);
  let chat = chats.get(key);
  if (!chat) {
    chat = el("div", { class: "chat", "data-account": account, "data-openid": openid, hidden: true },
      el("p", { class: "empty-chat" }, "Say hello, follow, or press a menu button."));
    chats.set(key, chat);
    $("#chats").append(chat);
  }
  return chat;
}

function addOpenid(openid) {
  if (![...$("#openid").options].some((option) => option.value === openid)) {
    $("#openid").append(el("option", { value: openid }, openid));
  }
}

function showChat(openid = currentOpenid()) {
  $("#openid").value = openid;
  const shown = chatFor(currentAccount(), openid);
  for (const chat of chats.values()) chat.hidden = chat !== shown;
  const account = accounts.get(currentAccount());
  $("#title").textContent = account?.name || "Official Account";
  $("#who").textContent = openid;
  $("#typing").hidden = true;
  scrollDown();
}

function scrollDown() { const box = $("#chats"); box.scrollTop = box.scrollHeight; }

function append(account, openid, node) {
  const chat = chatFor(account, openid);
  chat.querySelector(".empty-chat")?.remove();
  chat.append(node);
  if (isCurrent(account, openid)) scrollDown();
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

function drawReply(account, openid, result) {
  const reply = result.reply;
  const raw = rawView("XML", [
    [reply.encrypted ? "reply on the wire (sealed)" : "reply XML", reply.wire],
    ["reply XML, opened", reply.encrypted ? reply.xml : ""],
  ]);
  const seconds = `${reply.seconds.toFixed(2)} s`;
  if (reply.status !== 200) {
    append(account, openid, note(`HTTP ${reply.status}: ${reply.wire.trim()}`, "error"));
  } else if (!reply.bubble) {
    append(account, openid, el("div", { class: "stack center", "data-kind": "empty" },
      note(`no reply · success · ${seconds}`), raw));
  } else if (reply.bubble.type === "transfer_customer_service") {
    append(account, openid, el("div", { class: "stack center" },
      note("handed to customer service"), raw));
  } else {
    const node = message("in", replyBubble(reply.bubble), [el("span", { class: "tag" }, `passive · ${seconds}`), raw]);
    node.dataset.kind = "reply";
    node.dataset.source = "passive";
    append(account, openid, node);
  }
}

function drawDeferred(event) {
  const node = message("in", replyBubble(event.bubble), [
    el("span", { class: "tag deferred" }, "via customer-service API"),
    rawView("JSON", [["POST /cgi-bin/message/custom/send", event.raw]]),
  ]);
  node.dataset.kind = "reply";
  node.dataset.source = "deferred";
  append(event.account, event.openid, node);
}

// ---- talking to the backend -------------------------------------------------------------------------------

async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const result = await response.json();
  if (!response.ok) throw new Error(result.error || `HTTP ${response.status}`);
  return result;
}

async function perform(action, outgoing) {
  const [account, openid] = [currentAccount(), currentOpenid()];
  const shown = append(account, openid, outgoing);
  shown.classList.add("pending");
  let result;
  try {
    result = await postJson("/api/send", { ...action, account, openid, mode: currentMode() });
  } catch (error) {
    shown.classList.remove("pending");
    append(account, openid, note(String(error.message || error), "error"));
    return;
  }
  shown.classList.remove("pending");
  const sealed = result.request.encrypted ? [["request on the wire (sealed)", result.request.wire]] : [];
  const raw = rawView("XML", [["request XML", result.request.xml], ...sealed]);
  if (raw) (shown.querySelector(".stack") || shown).append(raw);
  drawReply(account, openid, result);
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

const NO_ACCOUNT = { appid: "", path: "—", menu: [], modes: ["plain"], source: "configured" };

function picked() { return accounts.get(currentAccount()) || NO_ACCOUNT; }

function describeBot() {
  const account = picked();
  const rows = [
    ["webhook", account.path],
    ["appid", account.appid || "—"],
    ["deadline", `${info.deadline} s`],
    ["menu", account.menu.length ? `${account.menu.length} button(s), ${info.menu_source === "file" ? "from --menu" : "created by the bot"}` : "none"],
  ];
  if (info.platform) rows.push(["platform", info.platform.appid]);
  $("#about").replaceChildren(...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  $("#revoke").disabled = account.source !== "authorizer" || account.revoked;
}

function chooseMode() {
  const account = picked();
  const safe = account.modes.includes("safe");
  $("#mode-safe").disabled = !safe;
  $("#mode-plain").disabled = !account.modes.includes("plain");
  (safe ? $("#mode-safe") : $("#mode-plain")).checked = true;
  $("#mode-hint").textContent = account.source === "authorizer"
    ? "An authorizer's messages are always sealed, with the platform's token, EncodingAESKey and appid."
    : safe
      ? "Safe mode seals each message with the account's EncodingAESKey and opens its replies."
      : "Safe mode needs the account's aes_key and appid.";
}

function accountLabel(account) {
  const kind = account.source === "authorizer" ? " · authorizer" : "";
  return `${account.name || account.appid || "the bot's account"}${kind}${account.revoked ? " (revoked)" : ""}`;
}

function pickAccount() {
  chooseMode();
  describeBot();
  drawMenu(picked().menu);
  showChat();
}

async function refresh(choose = currentAccount()) {
  info = await (await fetch("/api/info")).json();
  accounts = new Map(info.accounts.map((account) => [account.appid, account]));
  const usable = info.accounts.filter((account) => !account.revoked);
  $("#account").replaceChildren(...info.accounts.map((account) =>
    el("option", { value: account.appid, disabled: account.revoked }, accountLabel(account))));
  $("#account").value = usable.some((account) => account.appid === choose) ? choose : (usable[0]?.appid ?? "");
  $("#accounts").hidden = info.accounts.length < 2 && !info.platform;
  $("#platform").hidden = !info.platform;
  if (info.platform) platformHint(info.platform.error);
  pickAccount();
}

function platformHint(error) {
  $("#platform-hint").classList.toggle("error", Boolean(error));
  $("#platform-hint").textContent = error
    || `The fake open platform pushes authorizations to ${info.platform.events_url}, as WeChat does.`;
}

async function platformAction(path, body) {
  try {
    return await postJson(path, body);
  } catch (error) {
    platformHint(String(error.message || error));
    return null;
  }
}

function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    const account = accounts.get(event.account);
    if (event.type === "deferred") drawDeferred(event);
    else if (event.type === "typing" && isCurrent(event.account, event.openid)) $("#typing").hidden = !event.on;
    else if (event.type === "menu" && account) {
      account.menu = event.buttons;
      if (event.account === currentAccount()) { drawMenu(event.buttons); describeBot(); }
    }
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
  for (const openid of ["o_alice", "o_bob", "o_carol"]) addOpenid(openid);
  $("#openid").addEventListener("change", () => showChat());
  $("#account").addEventListener("change", pickAccount);
  $("#add-openid").addEventListener("submit", (event) => {
    event.preventDefault();
    const openid = $("#new-openid").value.trim();
    if (!openid) return;
    addOpenid(openid);
    showChat(openid);
    $("#new-openid").value = "";
  });
  $("#authorize").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await platformAction("/api/authorize", { name: $("#authorize-name").value });
    if (!result) return;
    $("#authorize-name").value = "";
    await refresh(result.account.appid);
  });
  $("#revoke").addEventListener("click", async () => {
    if (await platformAction("/api/revoke", { account: currentAccount() })) await refresh();
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
    perform({ kind: "compose", type: "subscribe", fields: { EventKey: scene ? `qrscene_${scene}` : "" } }, outgoingNote(scene ? `followed by scanning QR scene ${scene}` : "followed the account"));
  });
  $("#unfollow").addEventListener("click", () => perform({ kind: "compose", type: "unsubscribe" }, outgoingNote("unfollowed the account")));
  $("#scan").addEventListener("submit", (event) => {
    event.preventDefault();
    const scene = $("#scan-scene").value.trim();
    perform({ kind: "compose", type: "SCAN", fields: { EventKey: scene } }, outgoingNote(`scanned QR scene ${scene}`));
  });
  $("#location").addEventListener("submit", (event) => {
    event.preventDefault();
    const [latitude, longitude, label] = [$("#lat").value, $("#lng").value, $("#place").value];
    const card = mediaCard("⌖", label || "Location", `${latitude}, ${longitude}`, null, "Location");
    perform({ kind: "compose", type: "location", fields: { Location_X: latitude, Location_Y: longitude, Label: label } }, message("out", card));
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
  await refresh();
  listen();
  document.body.dataset.ready = "true";
}

start();
