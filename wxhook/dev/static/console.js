// The dev console's page: one chat per account and follower openid, replies drawn as WeChat draws them, a
// composer built from the backend's table of every message and event type, and the bot's calls to the fake API.
// Everything the bot sends is put on the page as text nodes (never as HTML), and only http(s) or local /media/
// addresses become links, images or players: a reply cannot run script here. Chats are kept in localStorage as
// data (never as markup) and drawn again by the same code after a reload.
"use strict";

const $ = (selector) => document.querySelector(selector);

// ---- languages ------------------------------------------------------------------------------------------

const STRINGS = {
  en: {
    "title": "dev console",
    "account.heading": "Account",
    "account.label": "the official account the follower writes to",
    "account.own": "the bot's account",
    "account.authorizer": "authorizer",
    "account.revoked": "(revoked)",
    "authorize.placeholder": "its name (optional), e.g. Corner Shop",
    "authorize.button": "Authorize a new account",
    "revoke.button": "Revoke its authorization",
    "platform.hint": "The fake open platform pushes authorizations to {url}, as WeChat does.",
    "follower.heading": "Follower",
    "openid.placeholder": "another openid, e.g. o_dave",
    "openid.add": "Add",
    "chat.clear": "Clear this chat",
    "mode.heading": "Mode",
    "mode.plain": "Plaintext",
    "mode.compat": "Compatible",
    "mode.safe": "Safe mode",
    "hint.plain": "Plaintext: the XML as it is, signed with the token.",
    "hint.compat": "Compatibility mode: the message in the clear and sealed (Encrypt) in one body; the bot reads the sealed part and seals its reply.",
    "hint.safe": "Safe mode: the message sealed with the EncodingAESKey; the reply comes back sealed.",
    "why.authorizer": "An authorizer's messages are always sealed, with the platform's token, EncodingAESKey and appid.",
    "why.noPlain": "No plaintext: the bot has an EncodingAESKey and refuses plaintext, as WeChat then pushes sealed. Bot(allow_plaintext=True) serves both while the account switches modes.",
    "why.noKey": "Compatible and safe mode need the account's aes_key and appid.",
    "composer.heading": "Send as a follower",
    "composer.send": "Send",
    "composer.hint": "Clear a field to leave its tag out.",
    "composer.fresh": "made for each send",
    "image.upload": "Send an image from disk…",
    "bot.heading": "Bot",
    "bot.hint": "Replies past the deadline arrive through the fake customer-service API, live. Open XML under a bubble for what went over the wire.",
    "about.webhook": "webhook",
    "about.deadline": "deadline",
    "about.menu": "menu",
    "about.platform": "platform",
    "about.menuFile": "{n} button(s), from --menu",
    "about.menuBot": "{n} button(s), created by the bot",
    "about.none": "none",
    "phone.title": "Official Account",
    "typing": "typing…",
    "chat.empty": "Say hello, follow, or press a menu button.",
    "text.placeholder": "Send a message",
    "text.send": "Send",
    "note.empty": "no reply · success · {s}",
    "note.transfer": "handed to customer service",
    "note.tapped": "tapped “{name}”",
    "note.lateFailed": "late reply not delivered: {failure}",
    "tag.passive": "passive · {s}",
    "tag.deferred": "via customer-service API",
    "tag.close": "⚠ answered in {s} of the {d} s deadline: a slower day misses it",
    "tag.past": "the deadline passed: the bot answered without its handler, whose reply goes through the API",
    "raw.requestXml": "request XML",
    "raw.wire.safe": "request on the wire (sealed)",
    "raw.wire.compat": "request on the wire (clear and sealed)",
    "raw.replyXml": "reply XML",
    "raw.replyWire": "reply on the wire (sealed)",
    "raw.replyOpened": "reply XML, opened",
    "faults.heading": "Inject an error",
    "faults.path": "endpoint",
    "faults.times": "times",
    "faults.only": "only for {openid}",
    "faults.arm": "Fail the next call(s)",
    "faults.armed": "armed: {path} answers {errcode}, {times} time(s)",
    "calls.heading": "API calls",
    "calls.empty": "The calls the bot makes to the fake API show here.",
    "calls.request": "request",
    "calls.response": "response",
    "calls.query": "query",
    "err.45015": "replied after 48 hours",
    "err.45047": "out of quota",
    "err.40001": "access token invalid",
    "err.-1": "system busy",
    "err.45009": "daily quota reached",
    "err.48001": "API unauthorized",
    "err.43004": "the follower unfollowed",
  },
  zh: {
    "title": "开发控制台",
    "account.heading": "公众号",
    "account.label": "粉丝发消息给的公众号",
    "account.own": "机器人的公众号",
    "account.authorizer": "授权方",
    "account.revoked": "（已取消授权）",
    "authorize.placeholder": "名称（可选），例如 街角小店",
    "authorize.button": "授权一个新公众号",
    "revoke.button": "取消它的授权",
    "platform.hint": "模拟的开放平台像微信一样，把授权事件推送到 {url}。",
    "follower.heading": "粉丝",
    "openid.placeholder": "另一个 openid，例如 o_dave",
    "openid.add": "添加",
    "chat.clear": "清空当前聊天",
    "mode.heading": "消息加解密方式",
    "mode.plain": "明文",
    "mode.compat": "兼容",
    "mode.safe": "安全",
    "hint.plain": "明文模式：XML 原样发送，用 Token 签名。",
    "hint.compat": "兼容模式：同一个消息体里既有明文又有密文（Encrypt）；机器人只读密文，并加密回复。",
    "hint.safe": "安全模式：消息用 EncodingAESKey 加密，回复也加密返回。",
    "why.authorizer": "授权方公众号的消息总是用第三方平台的 Token、EncodingAESKey 和 appid 加密。",
    "why.noPlain": "不可用明文：机器人配置了 EncodingAESKey，拒收明文（微信此时只推送密文）。切换模式期间可用 Bot(allow_plaintext=True) 同时接收两种。",
    "why.noKey": "兼容模式和安全模式需要公众号的 aes_key 和 appid。",
    "composer.heading": "模拟粉丝发送",
    "composer.send": "发送",
    "composer.hint": "清空某个字段，就不发送这个标签。",
    "composer.fresh": "每次发送时生成",
    "image.upload": "从本地发送图片…",
    "bot.heading": "机器人",
    "bot.hint": "超时的回复会通过模拟的客服消息接口实时送达。点开气泡下的 XML，查看收发的原始内容。",
    "about.webhook": "接口地址",
    "about.deadline": "超时",
    "about.menu": "菜单",
    "about.platform": "第三方平台",
    "about.menuFile": "{n} 个按钮，来自 --menu",
    "about.menuBot": "{n} 个按钮，由机器人创建",
    "about.none": "无",
    "phone.title": "公众号",
    "typing": "对方正在输入…",
    "chat.empty": "打个招呼、关注一下，或者点一下菜单。",
    "text.placeholder": "发送消息",
    "text.send": "发送",
    "note.empty": "无回复 · success · {s}",
    "note.transfer": "已转接客服",
    "note.tapped": "点击了“{name}”",
    "note.lateFailed": "超时回复未送达：{failure}",
    "tag.passive": "被动回复 · {s}",
    "tag.deferred": "通过客服消息接口",
    "tag.close": "⚠ 用时 {s}，接近 {d} 秒的期限：慢一点就会超时",
    "tag.past": "已过期限：机器人未等处理函数先行应答，处理函数的回复将通过客服接口发送",
    "raw.requestXml": "请求 XML",
    "raw.wire.safe": "实际发送的请求（密文）",
    "raw.wire.compat": "实际发送的请求（明文加密文）",
    "raw.replyXml": "回复 XML",
    "raw.replyWire": "实际收到的回复（密文）",
    "raw.replyOpened": "解密后的回复 XML",
    "faults.heading": "注入错误",
    "faults.path": "接口",
    "faults.times": "次数",
    "faults.only": "仅限 {openid}",
    "faults.arm": "让接下来的调用失败",
    "faults.armed": "已设置：{path} 返回 {errcode}，共 {times} 次",
    "calls.heading": "接口调用",
    "calls.empty": "机器人调用模拟接口时，会显示在这里。",
    "calls.request": "请求",
    "calls.response": "响应",
    "calls.query": "查询参数",
    "err.45015": "超过 48 小时未互动",
    "err.45047": "客服消息条数超限",
    "err.40001": "access_token 无效",
    "err.-1": "系统繁忙",
    "err.45009": "超过每日调用限额",
    "err.48001": "接口未授权",
    "err.43004": "粉丝已取消关注",
  },
};
const LANGUAGE_KEY = "wxhook-dev:language";
let language = "en";

function t(key, values = {}) {
  const text = STRINGS[language][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function chooseLanguage() {
  const kept = storage.get(LANGUAGE_KEY);
  if (kept in STRINGS) return kept;
  return (navigator.languages?.[0] || navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

function setLanguage(chosen, keep) {
  language = chosen;
  if (keep) storage.set(LANGUAGE_KEY, chosen);
  document.documentElement.lang = chosen === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((node) => { node.textContent = t(node.dataset.t); });
  document.querySelectorAll("[data-t-placeholder]").forEach((node) => { node.placeholder = t(node.dataset.tPlaceholder); });
  $("#lang-en").setAttribute("aria-pressed", String(chosen === "en"));
  $("#lang-zh").setAttribute("aria-pressed", String(chosen === "zh"));
}

// ---- storage: chats kept across a reload, bounded ---------------------------------------------------------

const storage = {
  get(key) { try { return localStorage.getItem(key); } catch { return null; } },
  set(key, value) { try { localStorage.setItem(key, value); return true; } catch { return false; } },
  remove(key) { try { localStorage.removeItem(key); } catch { /* storage off: nothing kept */ } },
};
const CHATS_KEY = "wxhook-dev:chats";
const CHAT_PREFIX = "wxhook-dev:chat:";
const KEPT_CHATS = 20;
const KEPT_ENTRIES = 100;
const KEPT_TEXT = 8000;  // characters of one raw XML or JSON kept

function keptChats() {
  try {
    const keys = JSON.parse(storage.get(CHATS_KEY) || "[]");
    return Array.isArray(keys) ? keys.filter((key) => typeof key === "string") : [];
  } catch {
    return [];
  }
}

function loadEntries(key) {
  try {
    const entries = JSON.parse(storage.get(CHAT_PREFIX + key) || "[]");
    return Array.isArray(entries) ? entries.filter((entry) => entry && typeof entry === "object") : [];
  } catch {
    return [];
  }
}

function clip(value) {
  if (typeof value === "string") return value.length > KEPT_TEXT ? `${value.slice(0, KEPT_TEXT)}…` : value;
  if (Array.isArray(value)) return value.map(clip);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clip(v)]));
  return value;
}

function saveChat(key, entries) {
  const keys = [key, ...keptChats().filter((other) => other !== key)];
  for (const dropped of keys.splice(KEPT_CHATS)) storage.remove(CHAT_PREFIX + dropped);
  const body = JSON.stringify(entries.slice(-KEPT_ENTRIES).map(clip));
  // Full: the oldest chats make room, then this one keeps what fits.
  while (!storage.set(CHAT_PREFIX + key, body) && keys.length > 1) storage.remove(CHAT_PREFIX + keys.pop());
  storage.set(CHATS_KEY, JSON.stringify(keys));
}

// ---- elements -------------------------------------------------------------------------------------------

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
const seconds = (value) => `${Number(value).toFixed(2)} s`;
const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

// ---- state ------------------------------------------------------------------------------------------------

let info = { accounts: [], platform: null, composer: { groups: [], kinds: [] } };
let accounts = new Map();  // appid -> the account, as /api/info describes it
let kinds = new Map();  // name -> an entry of the composer's table
const chats = new Map();  // chat key -> { element, entries, account, openid }
const typingUntil = new Map();  // chat key -> when WeChat drops the indicator (ms)
const TYPING_MS = 15000;
const calls = new Map();  // seq -> { call: as /api/calls describes it, node: its row in the panel }
const KEPT_CALLS = 200;
const armed = [];  // faults armed from this page, newest last

function currentAccount() { return $("#account").value; }
function currentOpenid() { return $("#openid").value; }
function currentMode() { return document.querySelector('input[name="mode"]:checked')?.value || "plain"; }
const chatKey = (account, openid) => JSON.stringify([account, openid]);
function isCurrent(account, openid) { return account === currentAccount() && openid === currentOpenid(); }

// ---- chats ------------------------------------------------------------------------------------------------

function chatFor(account, openid) {
  const key = chatKey(account, openid);
  let chat = chats.get(key);
  if (!chat) {
    const element = el("div", { class: "chat", "data-account": account, "data-openid": openid, hidden: true });
    chat = { element, entries: loadEntries(key), account, openid };
    chats.set(key, chat);
    $("#chats").append(element);
    drawChat(chat);
  }
  return chat;
}

function drawChat(chat) {
  const nodes = chat.entries.map((entry) => drawEntry(entry, chat.openid)).filter(Boolean);
  chat.element.replaceChildren(...(nodes.length ? nodes : [el("p", { class: "empty-chat" }, t("chat.empty"))]));
}

function record(account, openid, entry, replacing = null) {
  const chat = chatFor(account, openid);
  chat.entries.push(entry);
  saveChat(chatKey(account, openid), chat.entries);
  const node = drawEntry(entry, openid);
  chat.element.querySelector(".empty-chat")?.remove();
  if (replacing?.isConnected) replacing.replaceWith(node);
  else chat.element.append(node);
  if (isCurrent(account, openid)) scrollDown();
  return node;
}

function addOpenid(openid) {
  if (![...$("#openid").options].some((option) => option.value === openid)) {
    $("#openid").append(el("option", { value: openid }, openid));
  }
}

function showChat(openid = currentOpenid()) {
  $("#openid").value = openid;
  const shown = chatFor(currentAccount(), openid);
  for (const chat of chats.values()) chat.element.hidden = chat !== shown;
  const account = accounts.get(currentAccount());
  $("#title").textContent = account?.name || t("phone.title");
  $("#who").textContent = openid;
  $("#fault-openid-label").textContent = t("faults.only", { openid });
  showTyping();
  scrollDown();
}

function showTyping() {
  const until = typingUntil.get(chatKey(currentAccount(), currentOpenid())) || 0;
  $("#typing").hidden = until <= Date.now();
}

function scrollDown() { const box = $("#chats"); box.scrollTop = box.scrollHeight; }

// ---- drawing ---------------------------------------------------------------------------------------------

function rawView(label, sections) {
  const blocks = sections.filter(([, text]) => text)
    .map(([title, text]) => el("div", { class: "xml-block" }, el("h4", {}, title), el("pre", {}, text)));
  return blocks.length ? el("details", { class: "raw" }, el("summary", {}, label), blocks) : null;
}

function message(direction, openid, bubbleNode, extras = []) {
  const avatar = el("div", { class: "avatar", "aria-hidden": "true" }, direction === "in" ? "OA" : initial(openid));
  return el("div", { class: `msg ${direction}` }, avatar, el("div", { class: "stack" }, bubbleNode, extras));
}

function initial(openid) {
  return (String(openid).replace(/^o_/, "")[0] || "?").toUpperCase();
}

function note(text, kind = "") {
  return el("div", { class: `note ${kind}`.trim(), "data-kind": "note" }, text);
}

function centered(kind, ...children) {
  return el("div", { class: "stack center", "data-kind": kind }, children);
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

function kindLabel(name) {
  const kind = kinds.get(name);
  return kind ? kind.label[language] || kind.label.en : name;
}

const COMMON_TAGS = new Set(["ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "Event"]);

function leaves(fields, prefix = "") {
  return Object.entries(fields || {}).flatMap(([tag, value]) => (value && typeof value === "object"
    ? leaves(value, `${prefix}${tag}/`) : COMMON_TAGS.has(tag) ? [] : [[`${prefix}${tag}`, value]]));
}

function summary(fields, count = 3) {
  return leaves(fields).slice(0, count).map(([tag, value]) => `${tag.split("/").pop()}=${value}`).join(" · ");
}

// What the follower sent, drawn from the fields that went out.
function sentNode(entry, openid) {
  const fields = entry.fields || {};
  const type = fields.MsgType === "event" ? fields.Event : fields.MsgType;
  const raw = rawView("XML", [[t("raw.requestXml"), entry.xml],
    [t(`raw.wire.${entry.mode}`), entry.mode === "plain" ? "" : entry.wire]]);
  let node;
  if (entry.tapped !== undefined) {
    node = centered("sent", note(t("note.tapped", { name: entry.tapped })), raw);
  } else if (fields.MsgType === "event") {
    const key = fields.EventKey ? ` · ${fields.EventKey}` : "";
    node = centered("sent", note(`${kindLabel(type)} · ${type}${key}`), raw);
  } else if (type === "text") {
    node = message("out", openid, el("div", { class: "bubble", "data-type": "text" }, fields.Content ?? ""), [raw]);
  } else if (type === "image") {
    node = message("out", openid, imageBubble(fields.MediaId, "image"), [raw]);
  } else if (type === "location") {
    node = message("out", openid, mediaCard("⌖", fields.Label || kindLabel(type),
      `${fields.Location_X}, ${fields.Location_Y}`, null, kindLabel(type)), [raw]);
  } else {
    node = message("out", openid, mediaCard("✉", kindLabel(type), summary(fields), null, type), [raw]);
  }
  node.dataset.kind = "sent";
  node.dataset.type = type;
  return node;
}

function replyRaw(entry) {
  return rawView("XML", [
    [entry.encrypted ? t("raw.replyWire") : t("raw.replyXml"), entry.wire],
    [t("raw.replyOpened"), entry.encrypted ? entry.xml : ""],
  ]);
}

function drawEntry(entry, openid) {
  switch (entry.k) {
    case "sent":
      return sentNode(entry, openid);
    case "error":
      return note(entry.text, "error");
    case "empty":
      return centered("empty", note(t("note.empty", { s: seconds(entry.seconds) })), pastTag(entry), replyRaw(entry));
    case "transfer":
      return centered("transfer", note(t("note.transfer")), replyRaw(entry));
    case "reply": {
      const tags = [el("span", { class: "tag" }, t("tag.passive", { s: seconds(entry.seconds) }))];
      if (entry.close) tags.push(el("span", { class: "tag warn" }, t("tag.close", { s: seconds(entry.seconds), d: entry.deadline })));
      tags.push(pastTag(entry));
      const node = message("in", openid, replyBubble(entry.bubble), [...tags, replyRaw(entry)]);
      Object.assign(node.dataset, { kind: "reply", source: "passive", close: String(Boolean(entry.close)) });
      return node;
    }
    case "deferred": {
      const extras = [el("span", { class: "tag deferred" }, t("tag.deferred"))];
      if (entry.failure) extras.push(note(t("note.lateFailed", { failure: entry.failure }), "error"));
      extras.push(rawView("JSON", [["POST /cgi-bin/message/custom/send", entry.raw]]));
      const node = message("in", openid, replyBubble(entry.bubble), extras);
      Object.assign(node.dataset, { kind: "reply", source: "deferred", failed: String(Boolean(entry.failure)) });
      if (entry.failure) node.classList.add("failed");
      return node;
    }
    default:
      return null;  // kept by another version of the page
  }
}

function pastTag(entry) {
  return entry.past ? el("span", { class: "tag deferred" }, t("tag.past")) : null;
}

function replyEntry(reply) {
  const raw = { wire: reply.wire, xml: reply.xml, encrypted: reply.encrypted };
  if (reply.status !== 200) return { k: "error", text: `HTTP ${reply.status}: ${reply.wire.trim()}` };
  if (!reply.bubble) return { k: "empty", seconds: reply.seconds, past: reply.past_deadline, ...raw };
  if (reply.bubble.type === "transfer_customer_service") return { k: "transfer", ...raw };
  return { k: "reply", bubble: reply.bubble, seconds: reply.seconds, deadline: reply.deadline,
    close: reply.close_to_deadline, past: reply.past_deadline, ...raw };
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

// Send one action as the current follower: a pending bubble at once, then what went out and what came back.
async function perform(action, pending, tapped) {
  const [account, openid] = [currentAccount(), currentOpenid()];
  const chat = chatFor(account, openid);
  chat.element.querySelector(".empty-chat")?.remove();
  pending.classList.add("pending");
  chat.element.append(pending);
  scrollDown();
  let result;
  try {
    result = await postJson("/api/send", { ...action, account, openid, mode: currentMode() });
  } catch (error) {
    pending.remove();
    record(account, openid, { k: "error", text: String(error.message || error) });
    return;
  }
  const request = result.request;
  record(account, openid, { k: "sent", fields: request.fields, xml: request.xml, wire: request.wire,
    mode: request.mode, tapped }, pending);
  record(account, openid, replyEntry(result.reply));
}

function pendingNote(text) {
  return centered("pending", note(text));
}

// ---- the composer -----------------------------------------------------------------------------------------

function drawKinds() {
  const chosen = $("#kind").value || "text";
  const groups = info.composer.groups.map((group) => el("optgroup", { label: group[language] || group.en },
    info.composer.kinds.filter((kind) => kind.group === group.name).map((kind) =>
      el("option", { value: kind.name }, `${kindLabel(kind.name)} · ${kind.event || kind.msg_type}`))));
  $("#kind").replaceChildren(...groups);
  $("#kind").value = kinds.has(chosen) ? chosen : "text";
}

function drawFields() {
  const kind = kinds.get($("#kind").value);
  const rows = (kind?.fields || []).map((field) => el("label", { class: "compose-row" },
    el("span", { class: "tag-name", title: field.tag }, field.tag),
    el("input", { name: field.tag, value: field.default, autocomplete: "off", "aria-label": field.tag,
      inputmode: field.number ? "decimal" : null, placeholder: field.fresh ? t("composer.fresh") : null })));
  $("#compose-fields").replaceChildren(...rows);
}

function compose() {
  const kind = kinds.get($("#kind").value);
  if (!kind) return;
  const fields = Object.fromEntries([...$("#compose-fields").querySelectorAll("input")].map((input) => [input.name, input.value]));
  perform({ kind: "compose", type: kind.name, fields }, pendingNote(`${kindLabel(kind.name)} …`));
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
  perform({ kind: "menu", button }, pendingNote(t("note.tapped", { name: button.name })), String(button.name ?? ""));
}

// ---- the API panel ------------------------------------------------------------------------------------------

const FAULT_PATHS = ["/cgi-bin/message/custom/send", "/cgi-bin/message/custom/typing", "/cgi-bin/stable_token",
  "/cgi-bin/token", "/cgi-bin/menu/create", "/cgi-bin/media/get", "/cgi-bin/user/info",
  "/cgi-bin/message/template/send", "/cgi-bin/qrcode/create"];
const FAULT_CODES = [45015, 45047, 40001, -1, 45009, 48001, 43004];

// The newest call first; one added in place, so a call opened to read stays open.
function addCall(call) {
  if (!call || typeof call.seq !== "number" || calls.has(call.seq)) return;
  const node = callNode(call);
  calls.set(call.seq, { call, node });
  const later = [...$("#calls").children].find((other) => Number(other.dataset.seq) < call.seq);
  $("#calls").insertBefore(node, later || null);
  for (const seq of [...calls.keys()].sort((a, b) => a - b).slice(0, Math.max(0, calls.size - KEPT_CALLS))) {
    calls.get(seq).node.remove();
    calls.delete(seq);
  }
  $("#calls-empty").hidden = true;
}

function callNode(call) {
  const failed = Boolean(call.failure);
  const badge = el("span", { class: `badge ${failed ? "bad" : "ok"}` }, failed ? String(call.errcode || call.status) : "ok");
  const who = accounts.size > 1 && call.account ? el("span", { class: "call-account" }, call.account) : null;
  const blocks = [[t("calls.query"), call.query], [t("calls.request"), call.request], [t("calls.response"), call.response]]
    .filter(([, value]) => value !== null && value !== undefined && !(typeof value === "object" && Object.keys(value).length === 0))
    .map(([title, value]) => el("div", { class: "xml-block" }, el("h4", {}, title), el("pre", {}, pretty(value))));
  if (failed) blocks.unshift(el("p", { class: "call-failure" }, call.failure));
  return el("li", { class: `call${failed ? " failed" : ""}`, "data-seq": call.seq, "data-path": call.path,
    "data-errcode": call.errcode },
    el("details", {}, el("summary", {}, badge, el("code", {}, `${call.method} ${call.path}`), who), blocks));
}

function drawCalls() {
  for (const entry of calls.values()) entry.node = callNode(entry.call);
  $("#calls").replaceChildren(...[...calls.values()].sort((a, b) => b.call.seq - a.call.seq).map((entry) => entry.node));
  drawArmed();
  $("#calls-empty").hidden = calls.size > 0;
}

function drawArmed() {
  $("#armed").replaceChildren(...armed.slice(-5).reverse().map((fault) =>
    el("li", { class: "armed" }, note(t("faults.armed", fault)))));
}

function drawFaultForm() {
  $("#fault-paths").replaceChildren(...FAULT_PATHS.map((path) => el("option", { value: path })));
  const chosen = $("#fault-errcode").value || "45015";
  $("#fault-errcode").replaceChildren(...FAULT_CODES.map((code) =>
    el("option", { value: code }, `${code} · ${t(`err.${code}`)}`)));
  $("#fault-errcode").value = chosen;
  $("#fault-openid-label").textContent = t("faults.only", { openid: currentOpenid() });
}

async function armFault() {
  const body = {
    account: currentAccount(),
    path: $("#fault-path").value.trim(),
    errcode: Number($("#fault-errcode").value),
    times: Number($("#fault-times").value),
    openid: $("#fault-openid").checked ? currentOpenid() : null,
  };
  $("#fault-hint").classList.remove("error");
  try {
    armed.push((await postJson("/api/fail", body)).armed);
    $("#fault-hint").textContent = "";
  } catch (error) {
    $("#fault-hint").classList.add("error");
    $("#fault-hint").textContent = String(error.message || error);
  }
  drawArmed();
}

// ---- accounts, modes, the bot -----------------------------------------------------------------------------

const NO_ACCOUNT = { appid: "", path: "—", menu: [], modes: ["plain"], source: "configured" };

function picked() { return accounts.get(currentAccount()) || NO_ACCOUNT; }

function describeBot() {
  const account = picked();
  const menu = account.menu.length
    ? t(info.menu_source === "file" ? "about.menuFile" : "about.menuBot", { n: account.menu.length })
    : t("about.none");
  const rows = [[t("about.webhook"), account.path], ["appid", account.appid || "—"],
    [t("about.deadline"), `${info.deadline} s`], [t("about.menu"), menu]];
  if (info.platform) rows.push([t("about.platform"), info.platform.appid]);
  $("#about").replaceChildren(...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  $("#revoke").disabled = account.source !== "authorizer" || account.revoked;
}

// Only the modes the bot takes for the account are offered; the hint says why the others are not.
function chooseMode(keep = true) {
  const account = picked();
  const kept = currentMode();
  for (const mode of ["plain", "compat", "safe"]) $(`#mode-${mode}`).disabled = !account.modes.includes(mode);
  const mode = keep && account.modes.includes(kept) ? kept : (account.modes.includes("safe") ? "safe" : account.modes[0]);
  $(`#mode-${mode}`).checked = true;
  modeHint();
}

function modeHint() {
  const account = picked();
  const why = account.source === "authorizer" ? t("why.authorizer")
    : !account.modes.includes("plain") ? t("why.noPlain")
      : !account.modes.includes("safe") ? t("why.noKey") : "";
  $("#mode-hint").textContent = [t(`hint.${currentMode()}`), why].filter(Boolean).join(language === "zh" ? "" : " ");
}

function accountLabel(account) {
  const kind = account.source === "authorizer" ? ` · ${t("account.authorizer")}` : "";
  return `${account.name || account.appid || t("account.own")}${kind}${account.revoked ? ` ${t("account.revoked")}` : ""}`;
}

function drawAccounts(choose) {
  const usable = info.accounts.filter((account) => !account.revoked);
  $("#account").replaceChildren(...info.accounts.map((account) =>
    el("option", { value: account.appid, disabled: account.revoked }, accountLabel(account))));
  $("#account").value = usable.some((account) => account.appid === choose) ? choose : (usable[0]?.appid ?? "");
}

function pickAccount() {
  chooseMode(false);
  describeBot();
  drawMenu(picked().menu);
  showChat();
}

async function refresh(choose = currentAccount()) {
  info = await (await fetch("/api/info")).json();
  accounts = new Map(info.accounts.map((account) => [account.appid, account]));
  kinds = new Map(info.composer.kinds.map((kind) => [kind.name, kind]));
  drawAccounts(choose);
  $("#accounts").hidden = info.accounts.length < 2 && !info.platform;
  $("#platform").hidden = !info.platform;
  if (info.platform) platformHint(info.platform.error);
  pickAccount();
}

function platformHint(error) {
  $("#platform-hint").classList.toggle("error", Boolean(error));
  $("#platform-hint").textContent = error || t("platform.hint", { url: info.platform.events_url });
}

async function platformAction(path, body) {
  try {
    return await postJson(path, body);
  } catch (error) {
    platformHint(String(error.message || error));
    return null;
  }
}

// Everything drawn from data, drawn again in the language chosen.
function translate(chosen) {
  setLanguage(chosen, true);
  drawAccounts(currentAccount());
  drawKinds();
  drawFields();
  drawFaultForm();
  if (info.platform) platformHint(info.platform.error);
  describeBot();
  modeHint();
  for (const chat of chats.values()) drawChat(chat);
  showChat();
  drawCalls();
}

// ---- live events ------------------------------------------------------------------------------------------

function onEvent(event) {
  const account = accounts.get(event.account);
  if (event.type === "call") {
    addCall(event.call);
  } else if (event.type === "deferred") {
    typingUntil.delete(chatKey(event.account, event.openid));  // the message arrives: WeChat drops "typing…"
    record(event.account, event.openid, { k: "deferred", bubble: event.bubble, raw: event.raw, failure: event.failure });
    showTyping();
  } else if (event.type === "typing") {
    const key = chatKey(event.account, event.openid);
    if (event.on) typingUntil.set(key, Date.now() + TYPING_MS);
    else typingUntil.delete(key);
    showTyping();
    setTimeout(showTyping, TYPING_MS + 50);
  } else if (event.type === "menu" && account) {
    account.menu = event.buttons;
    if (event.account === currentAccount()) { drawMenu(event.buttons); describeBot(); }
  }
}

function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
  source.addEventListener("open", async () => {
    // Calls made before the stream opened (or while the page was away), merged with the streamed ones by seq.
    for (const call of (await (await fetch("/api/calls")).json()).calls) addCall(call);
    document.body.dataset.live = "true";
  });
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// ---- wiring -------------------------------------------------------------------------------------------------

async function start() {
  setLanguage(chooseLanguage(), false);
  const kept = keptChats().map((key) => { try { return JSON.parse(key); } catch { return null; } });
  for (const openid of ["o_alice", "o_bob", "o_carol", ...kept.filter(Array.isArray).map(([, openid]) => openid)]) {
    if (typeof openid === "string" && openid) addOpenid(openid);
  }
  $("#lang-en").addEventListener("click", () => translate("en"));
  $("#lang-zh").addEventListener("click", () => translate("zh"));
  $("#openid").addEventListener("change", () => showChat());
  $("#account").addEventListener("change", pickAccount);
  document.querySelectorAll('input[name="mode"]').forEach((input) => input.addEventListener("change", modeHint));
  $("#add-openid").addEventListener("submit", (event) => {
    event.preventDefault();
    const openid = $("#new-openid").value.trim();
    if (!openid) return;
    addOpenid(openid);
    showChat(openid);
    $("#new-openid").value = "";
  });
  $("#clear-chat").addEventListener("click", () => {
    const chat = chatFor(currentAccount(), currentOpenid());
    chat.entries = [];
    storage.remove(CHAT_PREFIX + chatKey(chat.account, chat.openid));
    drawChat(chat);
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
    const pending = message("out", currentOpenid(), el("div", { class: "bubble", "data-type": "text" }, text));
    perform({ kind: "text", text }, pending);
  });
  $("#kind").addEventListener("change", drawFields);
  $("#compose").addEventListener("submit", (event) => { event.preventDefault(); compose(); });
  $("#fault").addEventListener("submit", (event) => { event.preventDefault(); armFault(); });
  $("#image").addEventListener("change", async () => {
    const file = $("#image").files[0];
    if (!file) return;
    $("#image").value = "";
    const data = await readFile(file);
    const preview = el("img", { class: "photo", src: URL.createObjectURL(file), alt: file.name });
    perform({ kind: "image", data, content_type: file.type || "image/jpeg" },
      message("out", currentOpenid(), el("div", { class: "bubble media" }, preview)));
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".menu-slot")) document.querySelectorAll(".submenu").forEach((menu) => { menu.hidden = true; });
  });
  await refresh();
  drawKinds();
  drawFields();
  drawFaultForm();
  drawCalls();
  listen();
  document.body.dataset.ready = "true";
}

start();
