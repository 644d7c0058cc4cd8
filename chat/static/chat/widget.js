/*
 * Tatartours chat widget. Embed on any page:
 *   <script src="https://SITE/static/chat/widget.js" defer data-tour="SLUG"></script>
 * Optional: data-server="https://SITE" (when static files live on a CDN),
 * data-lang="ru". Elements with a data-tatartours-chat-open attribute open it.
 *
 * Plain JS, no build step. Speaks the wire contract (docs/protocol.md). The UI
 * lives in a shadow root with its own stylesheet, so the host page's CSS
 * cannot reach it and ours cannot leak out. Texts are English msgids
 * translated by Django (djangojs catalog at /chat/widget-i18n/). Message
 * text is only ever set through text nodes, never innerHTML.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const loaded = Symbol.for("tatartours-chat"); // no string-named global on the host page
  if (!script || window[loaded]) return; // embedded twice
  window[loaded] = true;

  const server = new URL(script.dataset.server || script.src, script.src).origin;
  const wsUrl = server.replace(/^http/, "ws") + "/ws/chat/";
  const tour = script.dataset.tour || "";
  const lang = script.dataset.lang || document.documentElement.lang || "";
  const storeKey = "tatartours-chat:" + server;
  const MAX_CHARS = 2000;

  // --- i18n: Django's catalog, msgid fallback ---------------------------------
  let catalog = {};
  const gettext = (msgid) => {
    const value = catalog[msgid];
    return typeof value === "string" && value ? value : msgid;
  };
  const interpolate = (text, values) =>
    text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));

  // --- persistence: token, unacknowledged messages, panel state -------------
  const memory = {};
  function load() {
    try {
      return JSON.parse(localStorage.getItem(storeKey) || "{}") || {};
    } catch (error) {
      return memory; // storage disabled (privacy mode, sandboxed frame)
    }
  }
  function save(patch) {
    const data = Object.assign(load(), patch);
    try {
      localStorage.setItem(storeKey, JSON.stringify(data));
    } catch (error) {
      Object.assign(memory, patch);
    }
  }
  const outbox = () => load().outbox || [];
  const setOutbox = (items) => save({ outbox: items });

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // randomUUID needs a secure context; a partner page on plain http has only this.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // --- tiny DOM helpers ---------------------------------------------------------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value == null) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }
  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(path) {
    const icon = document.createElementNS(SVG_NS, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    icon.setAttribute("class", "icon");
    const shape = document.createElementNS(SVG_NS, "path");
    shape.setAttribute("d", path);
    icon.append(shape);
    return icon;
  }
  const IN_MONTH = ["in January", "in February", "in March", "in April", "in May", "in June", "in July", "in August", "in September", "in October", "in November", "in December"];
  const ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  const ICON_CLOSE = "M6 6l12 12M18 6L6 18";
  const ICON_SEND = "M3 11l18-8-8 18-2-8-8-2z";

  // What becomes a link. The server counts links with this very line (chat/links.py
  // reads it from this file), so the link limits see what visitors will click.
  const LINK_PATTERN = /https?:\/\/[^\s<>"'«»]+/gi;

  // Russian months in the genitive ("21 декабря 2026") and what follows a number.
  const MONTHS = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря";
  const GLUE = [
    [/(\d) (?=\d{3}(?!\d))/g, "$1\u00a0"], // digit groups: "3 200", "1 250 000"
    [new RegExp("(\\d) (?=(?:₽|руб|р\\.|%|км|ч(?![а-яё])|мин|чел|г\\.|" + MONTHS + "))", "g"), "$1\u00a0"], // "3 200 ₽", "21 декабря"
    [new RegExp("(" + MONTHS + ") (?=\\d{4})", "g"), "$1\u00a0"], // "декабря 2026"
  ];
  /** A number or a date never breaks across lines: its spaces become non-breaking. */
  function glue(text) {
    for (const [pattern, replacement] of GLUE) text = text.replace(pattern, replacement);
    return text;
  }

  /** Text with safe links: http(s) only, new tab, no opener. Line breaks kept by CSS. */
  function renderText(node, text) {
    node.textContent = "";
    text = glue(text);
    const pattern = new RegExp(LINK_PATTERN);
    let last = 0;
    let match;
    while ((match = pattern.exec(text))) {
      let url = match[0].replace(/[.,!?;:]+$/, "");
      if (url.endsWith(")") && !url.includes("(")) url = url.slice(0, -1);
      let parsed = null;
      try {
        parsed = new URL(url);
      } catch (error) {
        parsed = null;
      }
      if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) continue;
      node.append(text.slice(last, match.index));
      node.append(el("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer nofollow", text: url }));
      last = match.index + url.length;
      pattern.lastIndex = last;
    }
    node.append(text.slice(last));
  }

  function timeLabel(iso) {
    const date = iso ? new Date(iso) : new Date();
    if (isNaN(date)) return "";
    const options = { hour: "2-digit", minute: "2-digit" };
    try {
      return date.toLocaleTimeString(lang || undefined, options);
    } catch (error) {
      return date.toLocaleTimeString(undefined, options); // the host page's lang is not a valid locale
    }
  }

  // --- the UI ---------------------------------------------------------------------
  const host = document.createElement("tatartours-chat");
  // Inline !important beats any host stylesheet rule aimed at our element.
  for (const [prop, value] of [["all", "initial"], ["position", "fixed"], ["z-index", "2147483000"], ["bottom", "0"], ["right", "0"], ["display", "none"]]) {
    host.style.setProperty(prop, value, "important");
  }
  const root = host.attachShadow({ mode: "open" });
  const ui = {};

  function buildUi() {
    ui.launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "panel", "aria-label": gettext("Open the support chat"), onclick: () => setOpen(true) }, [svg(ICON_CHAT), (ui.unread = el("span", { class: "unread", hidden: true }))]);
    ui.status = el("p", { class: "status", id: "status" });
    ui.banner = el("div", { class: "banner", role: "alert", hidden: true });
    ui.notice = el("div", { class: "notice", role: "status", hidden: true });
    ui.list = el("div", { class: "list" });
    ui.typing = el("div", { class: "typing", hidden: true }, [el("span", { class: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]), (ui.typingText = el("span"))]);
    ui.welcome = el("div", { class: "welcome" }, [
      el("p", { text: gettext("Hello! I am the AI assistant of Tours of Tatarstan. Ask about tours, dates, prices or booking. If you need a person, press “Call an operator”.") }),
      (ui.suggestions = el("div", { class: "suggestions" }, [
        // The month by name ("в декабре"): read as a month, not as "this" anything.
        interpolate(gettext("Which tours are there %(in_month)s?"), { in_month: gettext(IN_MONTH[new Date().getMonth()]) }),
        gettext("How do I book a tour?"),
        gettext("Are there discounts for children?"),
      ].map((text) => el("button", { type: "button", class: "chip", text, onclick: () => sendMessage(text) })))),
    ]);
    ui.log = el("div", { class: "log", role: "log", "aria-live": "off", "aria-label": gettext("Messages"), tabindex: "0", onscroll: onLogScroll, onwheel: (event) => event.deltaY < 0 && readAbove(), onkeydown: (event) => ["ArrowUp", "PageUp", "Home"].includes(event.key) && readAbove(), ontouchstart: (event) => (touchY = event.touches[0].clientY), ontouchmove: (event) => event.touches[0].clientY > touchY + 4 && readAbove() }, [ui.welcome, ui.list, ui.typing]);
    ui.pill = el("button", { class: "pill", type: "button", hidden: true, onclick: () => scrollDown(true, unseen) }, [gettext("New message"), el("span", { "aria-hidden": "true", text: " ↓" })]);
    ui.cards = el("div", { class: "cards" });
    ui.handoff = el("button", { class: "handoff", type: "button", onclick: () => (status === "operator" || status === "pending" ? endSupport() : requestSupport()) });
    ui.input = el("textarea", { id: "input", rows: "1", maxlength: String(MAX_CHARS), placeholder: gettext("Type a message…"), "aria-describedby": "counter", enterkeyhint: "send", oninput: onInput, onkeydown: onKeyDown });
    ui.counter = el("span", { class: "counter", id: "counter", "aria-live": "polite" });
    ui.send = el("button", { class: "send", type: "submit", "aria-label": gettext("Send") }, [svg(ICON_SEND)]);
    ui.form = el("form", { class: "composer", onsubmit: onSubmit }, [el("label", { class: "sr", for: "input", text: gettext("Message") }), ui.input, ui.send]);
    ui.panel = el("section", { class: "panel", id: "panel", role: "dialog", "aria-labelledby": "title", "aria-describedby": "status", hidden: true, onkeydown: (event) => event.key === "Escape" && setOpen(false) }, [
      el("header", { class: "head" }, [
        el("span", { class: "avatar", "aria-hidden": "true" }, [svg(ICON_CHAT)]),
        el("div", { class: "head-text" }, [el("h2", { id: "title", text: gettext("Tours of Tatarstan") }), ui.status]),
        el("button", { class: "close", type: "button", "aria-label": gettext("Minimise the chat"), onclick: () => setOpen(false) }, [svg(ICON_CLOSE)]),
      ]),
      ui.banner,
      ui.notice,
      el("div", { class: "log-wrap" }, [ui.log, ui.pill]),
      ui.cards,
      el("div", { class: "bar" }, [ui.handoff, ui.counter]),
      ui.form,
    ]);
    ui.announcer = el("div", { class: "sr", "aria-live": "polite" });
    root.append(el("link", { rel: "stylesheet", href: new URL("widget.css", script.src).href, onload: reveal, onerror: reveal }), ui.launcher, ui.panel, ui.announcer);
    setTimeout(reveal, 3000); // never hidden for good by a slow stylesheet
  }

  function reveal() {
    host.style.setProperty("display", "block", "important");
  }

  function announce(text) {
    ui.announcer.textContent = "";
    requestAnimationFrame(() => (ui.announcer.textContent = text));
  }

  function setOpen(open, moveFocus = true) {
    ui.panel.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    save({ open });
    if (open) {
      unread = 0;
      ui.unread.hidden = true;
      ui.launcher.setAttribute("aria-label", gettext("Open the support chat"));
      connect();
      scrollDown(true);
    }
    if (moveFocus) (open ? ui.input : ui.launcher).focus();
  }

  // --- scrolling: follow the conversation unless the visitor scrolled up ----------
  // Decided by where the visitor left the log, never by measuring after a long
  // message was inserted (which made a tall answer look like scrolling away).
  let following = true;
  let unseen = null; // the first message that arrived while the visitor read above
  let lastScrollTop = 0;
  let touchY = 0; // where a finger touched the log: moving it down reads above
  const atBottom = () => ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;

  /** The visitor moves up to read: stop following at once (even mid-animation). */
  function readAbove() {
    following = false;
  }

  function onLogScroll() {
    const top = ui.log.scrollTop;
    if (atBottom()) {
      following = true;
      unseen = null;
      ui.pill.hidden = true;
    } else if (top < lastScrollTop - 2) {
      following = false; // moved up: only the visitor does that (we only scroll down)
    }
    lastScrollTop = top;
  }

  /**
   * Show the end of the conversation, but never scroll past the top of `node`
   * (a new message), so a long answer is read from its start. `force`: the
   * visitor acted (sent, opened, clicked the pill). Not following: the pill.
   */
  function scrollDown(force, node) {
    if (force) following = true;
    if (!following) {
      // A finished stream is replaced by the stored answer: point at that one.
      if (node && node.classList.contains("msg") && !(unseen && unseen.isConnected)) unseen = node;
      if (unseen) ui.pill.hidden = false;
      return;
    }
    unseen = null;
    ui.pill.hidden = true;
    requestAnimationFrame(() => {
      if (!following) return; // the visitor scrolled up since this was asked for
      const log = ui.log;
      let target = log.scrollHeight - log.clientHeight;
      if (node && node.isConnected) {
        const top = node.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
        target = Math.min(target, top - 12);
      }
      if (force || target > log.scrollTop) log.scrollTop = target;
    });
  }

  // --- messages -----------------------------------------------------------------
  const byId = new Map(); // server id -> element
  const byClientId = new Map(); // client_id -> element of the visitor's message
  const streams = new Map(); // reply_to -> element of an AI answer being streamed
  const answered = new Set(); // reply_to ids with a stored AI answer
  let lastId = 0;
  let unread = 0;

  const AUTHOR_LABEL = {
    visitor: () => gettext("You"),
    ai: () => gettext("AI assistant"),
    system: () => gettext("Notice"),
  };
  function authorLabel(author, operator) {
    if (author === "operator") return interpolate(gettext("%(name)s, operator"), { name: (operator && operator.name) || gettext("Operator") });
    return (AUTHOR_LABEL[author] || AUTHOR_LABEL.system)();
  }

  function messageElement(author, text, operator) {
    const node = el("div", { class: "msg msg--" + author });
    node._author = author + (operator ? ":" + operator.name : "");
    node._who = el("div", { class: "who", text: authorLabel(author, operator) });
    node._text = el("div", { class: "text" });
    node._plain = text; // as written: the shown text has non-breaking spaces
    node._time = el("time");
    node._state = el("span", { class: "state" });
    renderText(node._text, text);
    node.append(node._who, el("div", { class: "bubble" }, [node._text]), el("div", { class: "meta" }, [node._time, node._state]));
    return node;
  }

  /** Keep the list ordered: stored messages by id, then streams, then unsent ones. */
  function place(node) {
    const id = node._id;
    let before = null;
    for (const other of ui.list.children) {
      const rank = other._id ? 0 : other._stream ? 1 : 2;
      const mine = id ? 0 : node._stream ? 1 : 2;
      if (rank > mine || (rank === 0 && mine === 0 && other._id > id)) {
        before = other;
        break;
      }
    }
    ui.list.insertBefore(node, before);
    for (const item of [node, node.nextElementSibling]) {
      if (!item) continue;
      const prev = item.previousElementSibling;
      item.classList.toggle("msg--cont", Boolean(prev && prev._author === item._author && item._author !== "system"));
    }
    ui.welcome.classList.toggle("welcome--compact", ui.list.children.length > 0);
  }

  function markStored(node, id, timestamp) {
    node._id = id;
    node.dataset.id = String(id);
    node._time.dateTime = timestamp || "";
    node._time.textContent = timeLabel(timestamp);
    byId.set(id, node);
    lastId = Math.max(lastId, id);
  }

  function setState(node, state, text) {
    node.classList.remove("msg--sending", "msg--failed");
    if (state) node.classList.add("msg--" + state);
    node._state.textContent = text || "";
  }

  /** A stored message from the server (history, live frame); idempotent per id. */
  function addMessage(m) {
    if (byId.has(m.id)) return byId.get(m.id);
    let node = m.client_id && byClientId.get(m.client_id);
    if (node) {
      node.remove(); // our unsent copy: it is stored now
      setState(node, null);
    } else {
      node = messageElement(m.author, m.message, m.operator);
      if (m.client_id) byClientId.set(m.client_id, node);
    }
    markStored(node, m.id, m.timestamp);
    place(node);
    if (m.author === "visitor" && m.client_id) dropFromOutbox(m.client_id);
    return node;
  }

  function incoming(m) {
    const node = addMessage(m);
    if (m.author === "visitor") return;
    announce(authorLabel(m.author, m.operator) + ": " + m.message);
    if (ui.panel.hidden) {
      unread += 1;
      ui.unread.textContent = String(unread);
      ui.unread.hidden = false;
      ui.launcher.setAttribute("aria-label", interpolate(gettext("Open the support chat, new messages: %(count)s"), { count: unread }));
    }
    scrollDown(false, node);
  }

  /** A notice the server stored as a system message: shown once, whichever copy comes first. */
  function storedNotice(m) {
    if (byId.has(m.id)) return;
    const node = addMessage(m);
    announce(m.message);
    scrollDown(false, node);
  }

  function systemNotice(text) {
    const node = messageElement("system", text);
    node._time.textContent = timeLabel();
    node._id = lastId + 0.5; // after what is on screen now, before anything newer
    place(node);
    announce(text);
    scrollDown(false, node);
  }

  // --- sending: optimistic, idempotent by client_id, resent after reconnects -----
  const inflight = new Set(); // client_ids sent on the current socket
  let holdUntil = 0; // rate limit: nothing is sent before this time
  let holdTimer = null;
  let retryTimer = null;
  let retries = 0;

  function dropFromOutbox(clientId) {
    setOutbox(outbox().filter((item) => item.client_id !== clientId));
    inflight.delete(clientId);
  }

  function pendingElement(item) {
    let node = byClientId.get(item.client_id);
    if (!node) {
      node = messageElement("visitor", item.message);
      node._time.textContent = timeLabel(item.at);
      byClientId.set(item.client_id, node);
      place(node);
    }
    setState(node, "sending", gettext("Sending…"));
    return node;
  }

  function sendMessage(text) {
    text = text.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) {
      showBanner(interpolate(gettext("The message is too long: at most %(limit)s characters."), { limit: MAX_CHARS }));
      return;
    }
    const item = { client_id: newClientId(), message: text, tour: tour || undefined, at: new Date().toISOString() };
    setOutbox(outbox().concat([item]));
    scrollDown(true, pendingElement(item));
    stopTyping();
    flush();
  }

  /** Send every unacknowledged message not yet on this socket, oldest first. */
  function flush() {
    if (!registered || Date.now() < holdUntil) return;
    for (const item of outbox()) {
      if (inflight.has(item.client_id)) continue;
      inflight.add(item.client_id);
      transmit({ type: "message", client_id: item.client_id, message: item.message, tour: item.tour });
    }
  }

  function onAck(frame) {
    const node = byClientId.get(frame.client_id);
    dropFromOutbox(frame.client_id);
    retries = 0;
    if (Date.now() >= holdUntil) hideBanner();
    if (!node || byId.has(frame.id)) return;
    node.remove();
    setState(node, null);
    markStored(node, frame.id, frame.timestamp);
    place(node);
  }

  function failMessage(clientId, reason) {
    dropFromOutbox(clientId);
    const node = byClientId.get(clientId);
    if (!node) return;
    setState(node, "failed", reason);
    const text = node._plain;
    node._state.append(" ", el("button", { type: "button", class: "link", text: gettext("Edit and resend"), onclick: () => {
      node.remove();
      byClientId.delete(clientId);
      ui.input.value = text;
      onInput();
      ui.input.focus();
    } }));
  }

  /** Hold every unsent message until `seconds` pass, with a visible countdown. */
  function holdFor(seconds, message) {
    holdUntil = Date.now() + seconds * 1000;
    clearInterval(holdTimer);
    const tick = () => {
      const left = Math.ceil((holdUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(holdTimer);
        hideBanner();
        ui.send.disabled = false;
        flush();
        return;
      }
      ui.send.disabled = true;
      showBanner(interpolate(message, { seconds: left }), true);
    };
    tick();
    holdTimer = setInterval(tick, 1000);
  }

  function retryLater() {
    clearTimeout(retryTimer);
    retries += 1;
    retryTimer = setTimeout(flush, Math.min(30000, 1000 * 2 ** retries));
  }

  function onError(frame) {
    const code = frame.code;
    const clientId = frame.client_id;
    if (clientId) inflight.delete(clientId);
    else settleCards(frame);
    if (code === "rate_limited") {
      const reconnecting = frame.limit === "connections" || frame.limit === "registrations";
      holdFor(Math.max(1, Math.ceil(frame.retry_after || 5)), reconnecting
        ? gettext("Too many connections. Reconnecting in %(seconds)s s.")
        : gettext("Too many messages. You can write again in %(seconds)s s; unsent messages will go by themselves."));
    } else if (clientId && code === "too_long") {
      failMessage(clientId, interpolate(gettext("Not sent: the message is longer than %(limit)s characters."), { limit: MAX_CHARS }));
    } else if (clientId && code === "moderated") {
      failMessage(clientId, gettext("Not sent: the message breaks the chat rules."));
    } else if (clientId && (code === "invalid" || retries >= 5)) {
      failMessage(clientId, gettext("Not sent: the message could not be accepted."));
    } else if (code === "unavailable" || code === "internal") {
      showBanner(gettext("The service is temporarily unavailable. Nothing is lost: we will try again."), Boolean(clientId) || !registered);
      if (clientId) retryLater();
      else if (!registered && socket) socket.close(); // registration failed: reconnect
    } else if (!frame.handled) {
      showBanner(frame.message || gettext("Something went wrong. Please try again."));
    }
  }

  // --- the socket ---------------------------------------------------------------------
  let socket = null;
  let registered = false;
  let sessionId = load().session_id || null;
  let attempt = 0;
  let reconnectTimer = null;
  let registerTimer = null;
  let status = "ai";
  let operatorName = load().operator || "";
  let awaitingSupport = false;

  function transmit(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function connect() {
    if (socket || !navigator.onLine && attempt > 0) return;
    clearTimeout(reconnectTimer);
    let ws;
    try {
      ws = new WebSocket(wsUrl);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      const frame = { type: "register", token: load().token || undefined, tour: tour || undefined };
      // Within this page we already show the history: ask only for what we missed.
      if (sessionId && byId.size) frame.after = lastId;
      ws.send(JSON.stringify(frame));
      registerTimer = setTimeout(() => ws.close(), 10000);
    };
    ws.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      const handler = handlers[frame.type];
      if (handler) handler(frame);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      registered = false;
      inflight.clear();
      clearTimeout(registerTimer);
      setTyping(null);
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    // Refused for connecting too often (close 4429): not before the hold ends.
    const delay = Math.max(holdUntil - Date.now(), Math.min(15000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2));
    attempt += 1;
    if (attempt > 1 && Date.now() >= holdUntil) showBanner(gettext("No connection. Reconnecting…"), true);
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  window.addEventListener("online", () => {
    if (socket) return;
    attempt = 0;
    connect();
  });

  // --- server frames ------------------------------------------------------------------
  const handlers = {
    registered(frame) {
      clearTimeout(registerTimer);
      if (sessionId && frame.session_id !== sessionId) resetConversation();
      sessionId = frame.session_id;
      save({ token: frame.token, session_id: frame.session_id });
      registered = true;
      attempt = 0;
      hideBanner();
      // A stream cut by the reconnect is either stored by now or generated again.
      for (const node of streams.values()) node.remove();
      streams.clear();
      setTyping(null);
      for (const m of frame.messages || []) {
        addMessage(m);
        if (m.author === "operator" && m.operator) setOperator(m.operator.name);
      }
      setStatus(frame.status);
      for (const item of outbox()) pendingElement(item);
      flush();
      scrollDown(true);
    },
    message_ack: onAck,
    visitor_message(frame) {
      incoming({ id: frame.id, author: "visitor", message: frame.message, timestamp: frame.timestamp, client_id: frame.client_id });
    },
    ai_typing(frame) {
      setTyping(frame.typing ? gettext("The assistant is typing…") : null, "ai");
    },
    ai_chunk(frame) {
      if (answered.has(frame.reply_to)) return;
      let node = streams.get(frame.reply_to);
      if (!node) {
        node = messageElement("ai", "");
        node._stream = true;
        node._raw = "";
        node.classList.add("msg--streaming");
        node._time.textContent = timeLabel();
        streams.set(frame.reply_to, node);
        place(node);
      }
      node._raw += frame.text;
      renderText(node._text, node._raw);
      setTyping(null);
      scrollDown(false, node);
    },
    ai_response(frame) {
      answered.add(frame.reply_to);
      const stream = streams.get(frame.reply_to);
      if (stream) stream.remove();
      streams.delete(frame.reply_to);
      incoming({ id: frame.id, author: "ai", message: frame.message, timestamp: frame.timestamp });
    },
    support_pending(frame) {
      awaitingSupport = false;
      setStatus("pending");
      showNotice(frame.message || interpolate(gettext("You are number %(position)s in the queue."), { position: frame.position }));
    },
    support_unavailable(frame) {
      awaitingSupport = false;
      setStatus("ai");
      hideNotice();
      if (frame.offline_form !== false) showOfflineForm(frame.message);
      else systemNotice(frame.message);
    },
    support_joined(frame) {
      awaitingSupport = false;
      const name = (frame.operator && frame.operator.name) || gettext("Operator");
      setOperator(name);
      setStatus("operator");
      hideNotice();
      // Re-sent on every reconnect without one: only a change of who is talking
      // comes with its notice, stored in the history (a reload shows it again).
      if (frame.notice) storedNotice(frame.notice);
    },
    operator_message(frame) {
      setTyping(null);
      incoming({ id: frame.id, author: "operator", message: frame.message, timestamp: frame.timestamp, operator: frame.operator });
    },
    operator_typing(frame) {
      const text = operatorName ? interpolate(gettext("%(name)s is typing…"), { name: operatorName }) : gettext("The operator is typing…");
      setTyping(frame.typing ? text : null, "operator");
    },
    chat_closed(frame) {
      setStatus("closed");
      hideNotice();
      setTyping(null);
      if (frame.notice) storedNotice(frame.notice);
      else systemNotice(frame.message || gettext("The conversation with the operator has ended."));
      if (frame.ask_rating !== false) showRating();
    },
    rated() {
      showCard("rating-done", [el("p", { text: gettext("Thank you for your rating!") })], true);
    },
    offline_ticket_saved(frame) {
      showCard("offline-done", [el("p", { text: frame.message || gettext("Thank you! We have your question and will get back to you.") })], true);
    },
    error: onError,
  };

  function resetConversation() {
    ui.list.textContent = "";
    byId.clear();
    streams.clear();
    answered.clear();
    for (const [clientId, node] of byClientId) if (!node.isConnected) byClientId.delete(clientId);
    lastId = 0;
  }

  const STATUS_TEXT = {
    ai: () => gettext("The AI assistant answers"),
    closed: () => gettext("The AI assistant answers"),
    pending: () => gettext("Waiting for an operator…"),
  };

  function setOperator(name) {
    operatorName = name || "";
    save({ operator: operatorName });
  }

  function setStatus(next) {
    status = next;
    if (status === "operator") {
      ui.status.textContent = operatorName ? interpolate(gettext("Operator %(name)s is in the chat"), { name: operatorName }) : gettext("An operator is in the chat");
    } else {
      ui.status.textContent = (STATUS_TEXT[status] || STATUS_TEXT.ai)();
    }
    // One button: call an operator; while waiting or talking to one, end that.
    ui.handoff.textContent = status === "operator" ? gettext("End the conversation") : status === "pending" ? gettext("Stop waiting") : gettext("Call an operator");
    ui.handoff.hidden = awaitingSupport;
  }

  let typingTimer = null;
  function setTyping(text, who) {
    clearTimeout(typingTimer);
    ui.typing.hidden = !text;
    ui.typingText.textContent = text || "";
    if (text) {
      // A lost "typing: false" must not leave the indicator on for ever.
      typingTimer = setTimeout(() => setTyping(null), who === "ai" ? 60000 : 8000);
      scrollDown(false, ui.typing);
    }
  }

  function showBanner(text, sticky) {
    ui.banner.textContent = text;
    ui.banner.hidden = false;
    clearTimeout(ui.banner._timer);
    if (!sticky) ui.banner._timer = setTimeout(hideBanner, 8000);
  }
  function hideBanner() {
    ui.banner.hidden = true;
  }
  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = false;
  }
  function hideNotice() {
    ui.notice.hidden = true;
  }

  // --- operator handoff, offline form, rating ------------------------------------
  function requestSupport() {
    connect();
    awaitingSupport = true;
    ui.handoff.hidden = true;
    showNotice(gettext("Looking for an operator…"));
    const ask = () => (registered ? transmit({ type: "request_support" }) : setTimeout(ask, 300));
    ask();
  }

  function endSupport() {
    transmit({ type: "end_support" });
  }

  /** A refusal not tied to a message: give back the buttons that were waiting for an answer. */
  function settleCards(frame) {
    if (awaitingSupport) {
      awaitingSupport = false;
      hideNotice();
      setStatus(status);
    }
    for (const button of ui.cards.querySelectorAll("button[disabled]")) button.disabled = false;
    // A refused offline form says what to fix next to the field.
    const form = ui.cards.querySelector("form.offline");
    if (form && frame.field) {
      const problem = form.querySelector(".form-error");
      problem.textContent = frame.message;
      problem.hidden = false;
      const input = form.querySelector('[name="' + (frame.field === "phone" || frame.field === "email" ? "contact" : frame.field) + '"]');
      if (input) input.focus();
      frame.handled = true;
    }
  }

  /** A small card above the composer; replaces one of the same kind. */
  function showCard(kind, children, focus) {
    const old = ui.cards.querySelector('[data-kind="' + kind.split("-")[0] + '"]');
    if (old) old.remove();
    const card = el("div", { class: "card", "data-kind": kind.split("-")[0], tabindex: "-1" }, children.concat([
      el("button", { type: "button", class: "card-close", "aria-label": gettext("Close"), onclick: () => card.remove() }, [svg(ICON_CLOSE)]),
    ]));
    ui.cards.append(card);
    if (focus) card.focus();
    return card;
  }

  function field(label, input) {
    return el("label", { class: "field" }, [el("span", { text: label }), input]);
  }

  // "Позовите оператора" is how the visitor asked for a person, not the question
  // to leave for the team: the form takes the latest message that is not just that.
  const ASKS_FOR_PERSON = /оператор|человек|менеджер|специалист|operator|human|person/i;

  function realQuestion() {
    const texts = [...ui.list.querySelectorAll(".msg--visitor")].slice(-5).map((node) => node._text.textContent.trim()).filter(Boolean);
    const question = [...texts].reverse().find((text) => !(ASKS_FOR_PERSON.test(text) && text.split(/\s+/).length <= 6));
    return question || texts.pop() || "";
  }

  function showOfflineForm(message) {
    const name = el("input", { name: "name", required: true, maxlength: "120", autocomplete: "name" });
    const contact = el("input", { name: "contact", required: true, maxlength: "120", autocomplete: "email" });
    const question = el("textarea", { name: "question", required: true, rows: "3", maxlength: String(MAX_CHARS) });
    question.value = realQuestion();
    const form = el("form", { class: "offline", onsubmit: (event) => {
      event.preventDefault();
      const value = contact.value.trim();
      const isEmail = value.includes("@");
      transmit({ type: "offline_ticket", name: name.value.trim(), phone: isEmail ? "" : value, email: isEmail ? value : "", question: question.value.trim() });
      form.querySelector("button[type=submit]").disabled = true;
    } }, [
      el("p", { class: "card-title", text: message || gettext("No operator is available right now. Leave your contacts and question, and we will get back to you.") }),
      el("p", { class: "form-error", role: "alert", hidden: true }),
      field(gettext("Your name"), name),
      field(gettext("Phone or e-mail"), contact),
      field(gettext("Question"), question),
      el("button", { type: "submit", class: "primary", text: gettext("Send the question") }),
    ]);
    showCard("offline", [form], true);
    name.focus();
  }

  function showRating() {
    const stars = el("div", { class: "stars", role: "radiogroup", "aria-label": gettext("Your rating") });
    for (let score = 5; score >= 1; score--) {
      // Reversed in the DOM so that CSS can light up the stars before the hovered one.
      const id = "star-" + score;
      stars.append(
        el("input", { type: "radio", name: "score", value: String(score), id, required: true }),
        el("label", { for: id, title: String(score), text: "★" }, [el("span", { class: "sr", text: interpolate(gettext("%(score)s of 5"), { score }) })]),
      );
    }
    const comment = el("textarea", { name: "comment", rows: "2", maxlength: "2000", placeholder: gettext("A comment (optional)") });
    const form = el("form", { class: "rating", onsubmit: (event) => {
      event.preventDefault();
      const checked = form.querySelector("input[name=score]:checked");
      if (!checked) return;
      transmit({ type: "rate", score: Number(checked.value), comment: comment.value.trim() || undefined });
      form.querySelector("button[type=submit]").disabled = true;
    } }, [
      el("p", { class: "card-title", text: gettext("How did we help you?") }),
      stars,
      comment,
      el("button", { type: "submit", class: "primary", text: gettext("Rate") }),
    ]);
    showCard("rating", [form], false);
    scrollDown();
  }

  // --- booking card (docs/protocol.md part 2: booking_proposal, confirm_booking) ----
  // Self-contained: it adds its handlers and wraps `registered` and `error`.
  // Nothing is booked until the visitor presses the card's confirm button.
  let bookingAsk = null; // a tour page's «Забронировать» waiting for the socket
  let bookingSend = null; // a confirm_booking sent and not yet answered (resent on reconnect)

  function money(amount) {
    const value = Number(amount);
    try {
      return new Intl.NumberFormat(lang || "ru", { style: "currency", currency: "RUB", maximumFractionDigits: 0 }).format(value);
    } catch (error) {
      return Math.round(value) + " ₽";
    }
  }
  function dayLabel(iso) {
    const date = new Date(iso + "T12:00:00");
    try {
      return date.toLocaleDateString(lang || undefined, { day: "numeric", month: "long", year: "numeric" });
    } catch (error) {
      return iso;
    }
  }

  function requestBookingCard(slug) {
    connect();
    bookingAsk = slug;
    const ask = () => {
      if (bookingAsk !== slug) return;
      if (!registered) return setTimeout(ask, 300);
      bookingAsk = null;
      transmit({ type: "booking_request", tour: slug });
    };
    ask();
  }

  function showBookingCard(frame) {
    const tourInfo = frame.tour || {};
    const price = Number(tourInfo.price_per_person);
    const key = newClientId(); // one per card: a retried click books once
    const people = el("input", { name: "participants", type: "number", min: "1", max: String(frame.max_participants || 1), value: String(frame.participants || 1), required: true, inputmode: "numeric" });
    const total = el("strong", { class: "booking-total" });
    const recount = () => {
      const count = Math.max(1, Math.min(Number(people.value) || 1, frame.max_participants || 1));
      total.textContent = money(price * count);
    };
    people.addEventListener("input", recount);
    recount();
    const name = el("input", { name: "name", maxlength: "120", autocomplete: "name", required: true });
    const contact = el("input", { name: "contact", maxlength: "120", autocomplete: "email", required: true });
    const dates = tourInfo.start_date === tourInfo.end_date ? dayLabel(tourInfo.start_date) : dayLabel(tourInfo.start_date) + " — " + dayLabel(tourInfo.end_date);
    const form = el("form", { class: "booking", "data-proposal": frame.proposal_id, onsubmit: (event) => {
      event.preventDefault();
      const confirmation = { type: "confirm_booking", proposal_id: frame.proposal_id, idempotency_key: key, participants: Number(people.value) || 1 };
      if (frame.needs_contact) {
        const value = contact.value.trim();
        confirmation.name = name.value.trim();
        confirmation[value.includes("@") ? "email" : "phone"] = value;
      }
      form.querySelector(".form-error").hidden = true;
      form.querySelector("button[type=submit]").disabled = true;
      bookingSend = confirmation;
      if (registered) transmit(confirmation);
      else connect(); // sent once registered (resendBooking)
    } }, [
      el("p", { class: "card-title", text: gettext("Booking") }),
      el("p", { class: "booking-tour", text: tourInfo.title || "" }),
      el("dl", { class: "booking-facts" }, [
        el("dt", { text: gettext("Dates") }), el("dd", { text: dates }),
        el("dt", { text: gettext("Price per person") }), el("dd", { text: money(price) }),
      ]),
      field(gettext("People"), people),
      frame.needs_contact && field(gettext("Your name"), name),
      frame.needs_contact && field(gettext("Phone or e-mail"), contact),
      el("p", { class: "booking-sum" }, [gettext("Total") + ": ", total]),
      el("p", { class: "form-error", role: "alert", hidden: true }),
      el("p", { class: "booking-note", text: interpolate(gettext("Nothing is booked until you press “Confirm”. The places are then held for %(minutes)s minutes until an operator confirms."), { minutes: frame.hold_minutes || 30 }) }),
      el("button", { type: "submit", class: "primary", text: gettext("Confirm") }),
    ]);
    const shown = showCard("booking", [form], true);
    // A card the visitor closed stays closed after a reload.
    shown.querySelector(".card-close").addEventListener("click", () => save({ booking_dismissed: frame.proposal_id }));
    scrollDown();
  }

  function bookingRefused(frame) {
    if (bookingSend && bookingSend.proposal_id === frame.proposal_id) bookingSend = null;
    const form = ui.cards.querySelector('form.booking[data-proposal="' + frame.proposal_id + '"]');
    if (!form) return false;
    const problem = form.querySelector(".form-error");
    problem.textContent = frame.free_places != null ? frame.message + " " + interpolate(gettext("Free places: %(count)s."), { count: frame.free_places }) : frame.message;
    problem.hidden = false;
    const input = frame.field && form.querySelector('[name="' + (frame.field === "phone" || frame.field === "email" ? "contact" : frame.field) + '"]');
    if (input) input.focus();
    form.querySelector("button[type=submit]").disabled = false;
    return true;
  }

  function resendBooking() {
    if (bookingSend) transmit(bookingSend);
    if (bookingAsk) requestBookingCard(bookingAsk);
  }

  function bookingMade(frame) {
    if (bookingSend && bookingSend.proposal_id === frame.proposal_id) bookingSend = null;
    const booking = frame.booking || {};
    const done = [
      el("p", { class: "card-title", text: interpolate(gettext("Booking %(reference)s"), { reference: booking.reference || "" }) }),
      el("p", { class: "booking-done", text: booking.status_label || "" }),
    ];
    const card = ui.cards.querySelector('[data-kind="booking"]');
    if (!card || card.querySelector('form.booking[data-proposal="' + frame.proposal_id + '"]')) showCard("booking-done", done, true);
    if (frame.message) systemNotice(frame.message);
  }

  Object.assign(handlers, {
    booking_proposal: showBookingCard,
    booking_created: bookingMade,
    booking_updated(frame) {
      if (frame.message) systemNotice(frame.message);
    },
  });
  const registeredFirst = handlers.registered;
  handlers.registered = (frame) => {
    registeredFirst(frame);
    resendBooking();
    // After a reload the card is gone from the page: ask for one still open.
    if (!ui.cards.querySelector('[data-kind="booking"]')) transmit({ type: "booking_cards" });
  };
  handlers.booking_cards = (frame) => {
    const open = (frame.cards || []).filter((card) => card.proposal_id !== load().booking_dismissed);
    if (open.length && !ui.cards.querySelector('[data-kind="booking"]')) showBookingCard(open[open.length - 1]);
  };

  handlers.error = (frame) => {
    if (frame.proposal_id && bookingRefused(frame)) frame.handled = true;
    else if (frame.proposal_id) bookingSend = null;
    onError(frame);
  };
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-tatartours-book]");
    if (!button || !ui.panel) return;
    event.preventDefault();
    setOpen(true);
    requestBookingCard(button.getAttribute("data-tatartours-book"));
  });

  // --- composer -------------------------------------------------------------------
  let typingSent = false;
  let typingIdle = null;

  function onInput() {
    const input = ui.input;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
    const left = MAX_CHARS - input.value.length;
    ui.counter.textContent = left < 200 ? interpolate(gettext("%(count)s characters left"), { count: left }) : "";
    if (status === "operator" && registered && input.value) {
      if (!typingSent) transmit({ type: "typing", typing: true });
      typingSent = true;
      clearTimeout(typingIdle);
      typingIdle = setTimeout(stopTyping, 4000);
    }
  }

  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingSent && registered) transmit({ type: "typing", typing: false });
    typingSent = false;
  }

  function onKeyDown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit ? ui.form.requestSubmit() : onSubmit(event);
    }
  }

  function onSubmit(event) {
    event.preventDefault();
    if (ui.send.disabled) return;
    const text = ui.input.value;
    if (!text.trim()) return;
    ui.input.value = "";
    onInput();
    sendMessage(text);
  }

  // --- start ------------------------------------------------------------------------
  function start() {
    if (!document.body) return document.addEventListener("DOMContentLoaded", start);
    buildUi();
    setStatus("ai");
    document.body.append(host);
    document.addEventListener("click", (event) => {
      const opener = event.target.closest && event.target.closest("[data-tatartours-chat-open]");
      if (!opener) return;
      event.preventDefault();
      setOpen(true);
    });
    const saved = load();
    // A visitor who never chatted opens no socket (and creates no session) until they open the chat.
    if (saved.token || (saved.outbox || []).length) connect();
    if (saved.open) setOpen(true, false);
  }

  const catalogUrl = server + "/chat/widget-i18n/" + (lang ? "?lang=" + encodeURIComponent(lang) : "");
  const timeout = new Promise((resolve) => setTimeout(resolve, 4000));
  Promise.race([fetch(catalogUrl, { credentials: "omit" }).then((r) => (r.ok ? r.json() : {})), timeout])
    .then((data) => (catalog = (data && data.catalog) || {}))
    .catch(() => {})
    .then(start);
})();
