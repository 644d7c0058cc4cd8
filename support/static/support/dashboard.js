/* The operator dashboard: speaks the operator socket (/ws/support/).
 *
 * Plain JavaScript, no build step. Everything a visitor wrote is put on the
 * page with textContent, never innerHTML: a message can hold no markup.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("support-config").textContent);
  const T = config.strings;

  const state = {
    socket: null,
    me: null,
    status: "online",
    queue: [],
    queueTotal: 0, // waiting in all; the server sends the queue a page at a time
    assigned: [],
    operatorsAvailable: 0,
    chats: new Map(), // session id -> {messages, visitor, tour, request, unread, typingUntil, transferredFrom}
    selected: null,
    tickets: config.tickets || [],
    pending: new Map(), // client_id -> {sessionId, text}
    retryDelay: 1000,
    heartbeat: null,
    typingSentAt: 0,
    typingTimer: null,
    unseenRequests: 0,
    sound: localStorage.getItem("support.sound") !== "off",
    knownRequests: new Set(),
    // How many waiting requests this operator opened with "show more" (0: the
    // first page only), and an announcement held back while the pages beyond
    // its first page are asked for again.
    queueWanted: 0,
    heldQueue: null,
  };

  // --- small helpers ---------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  function time(iso) {
    const date = new Date(iso);
    return date.toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
  }

  function dateTime(iso) {
    return new Date(iso).toLocaleString("ru-RU", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  function waited(iso) {
    const seconds = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    return minutes > 0 ? minutes + " " + T.minutes_short + " " + rest + " " + T.seconds_short : rest + " " + T.seconds_short;
  }

  function shortId(sessionId) { return sessionId.slice(0, 8); }

  function visitorLabel(data) {
    if (data && data.user && data.user.name) return data.user.name;
    return T.guest;
  }

  function toast(text, isError) {
    const node = el("div", "toast" + (isError ? " error" : ""), text);
    $("toasts").appendChild(node);
    setTimeout(function () { node.remove(); }, 6000);
  }

  function send(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // --- notices: title bar and sound ---------------------------------------------------------

  const baseTitle = document.title;

  function notifyNewRequest() {
    if (!document.hasFocus()) {
      state.unseenRequests += 1;
      document.title = "(" + state.unseenRequests + ") " + T.new_request + " · " + baseTitle;
    }
    if (state.sound) beep();
  }

  window.addEventListener("focus", function () {
    state.unseenRequests = 0;
    document.title = baseTitle;
  });

  let audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + 0.4);
    } catch (error) { /* no audio: the title bar still tells */ }
  }

  function renderSound() {
    const button = $("sound-toggle");
    button.textContent = state.sound ? T.sound_on : T.sound_off;
    button.setAttribute("aria-pressed", state.sound ? "true" : "false");
  }

  $("sound-toggle").addEventListener("click", function () {
    state.sound = !state.sound;
    localStorage.setItem("support.sound", state.sound ? "on" : "off");
    renderSound();
  });

  // --- the socket --------------------------------------------------------------------------------

  function setConnection(stateName, text) {
    const node = $("connection");
    node.dataset.state = stateName;
    node.querySelector(".connection-text").textContent = text;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + config.socket_path);
    state.socket = socket;
    setConnection("connecting", T.connecting);

    socket.addEventListener("open", function () {
      state.retryDelay = 1000;
      setConnection("open", T.connected);
      clearInterval(state.heartbeat);
      state.heartbeat = setInterval(function () { send({ type: "heartbeat" }); }, config.heartbeat_seconds * 1000);
      // Messages not acknowledged before the connection dropped: the same
      // client_id again is safe, the server stores each once.
      state.pending.forEach(function (item, clientId) {
        send({ type: "message", session_id: item.sessionId, client_id: clientId, message: item.text });
      });
    });

    socket.addEventListener("message", function (event) {
      let frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      const handler = handlers[frame.type];
      if (handler) handler(frame);
      // For add-ons of the page (dashboard_bookings.js): every frame, after ours.
      document.dispatchEvent(new CustomEvent("support:frame", { detail: frame }));
    });

    socket.addEventListener("close", function (event) {
      clearInterval(state.heartbeat);
      if (event.code === 4401) {
        setConnection("closed", T.not_logged_in);
        location.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname);
        return;
      }
      if (event.code === 4403) {
        setConnection("closed", T.forbidden);
        return;
      }
      setConnection("closed", T.reconnecting);
      setTimeout(connect, state.retryDelay);
      state.retryDelay = Math.min(state.retryDelay * 2, 15000);
    });
  }

  // --- what the server says ---------------------------------------------------------------------

  const handlers = {
    operator_state: function (frame) {
      state.me = frame.operator;
      $("me").textContent = frame.operator.name;
      setStatus(frame.status);
      if (frame.heartbeat_seconds) config.heartbeat_seconds = frame.heartbeat_seconds;
    },
    operator_status: function (frame) { setStatus(frame.status); },
    queue: function (frame) {
      const before = state.knownRequests;
      let page = frame.requests || [];
      const total = typeof frame.total === "number" ? frame.total : page.length;
      if (!frame.offset && state.queueWanted > page.length && total > page.length) {
        // An announcement carries the first page only. The pages this operator
        // opened are asked for again and shown with it, so the list does not
        // fall back to one page on every change of the queue.
        state.heldQueue = frame;
        send({ type: "get_queue", offset: page.length });
        return;
      }
      if (frame.offset) {
        // A further page: what lies before it stays (the held announcement's
        // first page, if one waits), the rest is this page.
        const held = state.heldQueue;
        state.heldQueue = null;
        if (held) frame = Object.assign({}, held, { requests: null, total: frame.total });
        const first = held ? held.requests || [] : state.queue.slice(0, frame.offset || 0);
        const listed = new Set(first.map(function (r) { return r.session_id; }));
        const added = page.filter(function (r) { return !listed.has(r.session_id); });
        page = first.concat(added);
        if (added.length && page.length < Math.min(state.queueWanted, frame.total || 0)) {
          // Restoring more than one opened page: the next one.
          send({ type: "get_queue", offset: page.length });
        }
        state.queueWanted = Math.max(state.queueWanted, page.length);
      }
      state.queue = page;
      state.queueTotal = typeof frame.total === "number" ? frame.total : state.queue.length;
      state.assigned = frame.assigned || [];
      state.operatorsAvailable = frame.operators_available || 0;
      state.knownRequests = new Set(state.queue.map(function (r) { return r.session_id; }));
      renderQueue(before);
      renderAssigned();
    },
    new_support_request: function (frame) {
      if (!state.queue.some(function (r) { return r.session_id === frame.session_id; })) {
        // The newest waits last: listed only if the whole queue is.
        if (state.queue.length >= state.queueTotal) {
          state.queue.push(frame);
          state.queue.sort(function (a, b) { return a.waiting_since < b.waiting_since ? -1 : 1; });
        }
        state.queueTotal += 1;
      }
      notifyNewRequest();
      renderQueue(state.knownRequests);
      state.knownRequests.add(frame.session_id);
    },
    support_request_taken: function (frame) {
      state.queue = state.queue.filter(function (r) { return r.session_id !== frame.session_id; });
      state.queueTotal = Math.max(state.queue.length, state.queueTotal - 1);
      renderQueue(state.knownRequests);
    },
    support_chat_joined: function (frame) {
      const existing = state.chats.get(frame.session_id);
      state.chats.set(frame.session_id, {
        messages: frame.messages,
        visitor: frame.visitor,
        tour: frame.tour,
        request: frame.request,
        unread: existing ? existing.unread : 0,
        typingUntil: 0,
        transferredFrom: frame.transferred_from,
      });
      state.queue = state.queue.filter(function (r) { return r.session_id !== frame.session_id; });
      renderQueue(state.knownRequests);
      if (!state.selected || !state.chats.has(state.selected)) select(frame.session_id);
      else if (state.selected === frame.session_id) renderChat();
      renderChats();
    },
    visitor_message: function (frame) {
      const chat = state.chats.get(frame.session_id);
      if (!chat) return;
      addMessage(chat, { id: frame.id, author: "visitor", message: frame.message, timestamp: frame.timestamp });
      chat.typingUntil = 0;
      if (state.selected !== frame.session_id) {
        chat.unread += 1;
        if (state.sound) beep();
      }
      refreshChat(frame.session_id);
    },
    operator_message: function (frame) {
      const chat = state.chats.get(frame.session_id);
      if (!chat) return;
      addMessage(chat, { id: frame.id, author: "operator", message: frame.message, timestamp: frame.timestamp, operator: frame.operator });
      refreshChat(frame.session_id);
    },
    visitor_typing: function (frame) {
      const chat = state.chats.get(frame.session_id);
      if (!chat) return;
      chat.typingUntil = frame.typing ? Date.now() + 6000 : 0;
      if (state.selected === frame.session_id) renderTyping();
    },
    message_ack: function (frame) {
      const item = state.pending.get(frame.client_id);
      state.pending.delete(frame.client_id);
      const chat = state.chats.get(frame.session_id);
      if (!chat) return;
      const local = chat.messages.find(function (m) { return m.client_id === frame.client_id; });
      if (local) {
        local.id = frame.id;
        local.timestamp = frame.timestamp;
        local.pending = false;
      } else if (item) {
        addMessage(chat, { id: frame.id, author: "operator", message: item.text, timestamp: frame.timestamp });
      }
      refreshChat(frame.session_id);
    },
    chat_closed: function (frame) {
      const text = frame.by === "visitor" ? T.closed_by_visitor : frame.reason === "requeued" ? T.closed_by_system : T.closed_by_you;
      dropChat(frame.session_id, text);
    },
    chat_transferred: function (frame) {
      dropChat(frame.session_id, T.transferred_to + " " + (frame.operator ? frame.operator.name : ""));
    },
    operators: function (frame) {
      state.operators = frame.operators || [];
      renderTransferList();
    },
    new_offline_ticket: function (frame) {
      state.tickets.unshift(frame.ticket);
      renderTickets();
      if (state.sound) beep();
    },
    offline_ticket_updated: function (frame) {
      state.tickets = state.tickets.map(function (t) { return t.id === frame.ticket.id ? frame.ticket : t; });
      renderTickets();
    },
    error: function (frame) {
      if (frame.client_id && state.pending.has(frame.client_id)) {
        const item = state.pending.get(frame.client_id);
        state.pending.delete(frame.client_id);
        const chat = state.chats.get(item.sessionId);
        if (chat) {
          const local = chat.messages.find(function (m) { return m.client_id === frame.client_id; });
          if (local) { local.pending = false; local.failed = true; }
          refreshChat(item.sessionId);
        }
      }
      toast(frame.message || T.error, true);
      if (frame.code === "already_taken" || frame.code === "not_found") send({ type: "get_queue" });
    },
  };

  // --- state changes ------------------------------------------------------------------------------

  function addMessage(chat, message) {
    if (message.id && chat.messages.some(function (m) { return m.id === message.id; })) return;
    chat.messages.push(message);
  }

  function dropChat(sessionId, text) {
    if (!state.chats.has(sessionId)) return;
    state.chats.delete(sessionId);
    toast(text);
    if (state.selected === sessionId) {
      state.selected = null;
      const next = state.chats.keys().next();
      if (!next.done) select(next.value); else renderChat();
    }
    renderChats();
  }

  function refreshChat(sessionId) {
    if (state.selected === sessionId) {
      const chat = state.chats.get(sessionId);
      if (chat) chat.unread = 0;
      renderTranscript();
      renderTyping();
    }
    renderChats();
  }

  function select(sessionId) {
    state.selected = sessionId;
    const chat = state.chats.get(sessionId);
    if (chat) chat.unread = 0;
    renderChat();
    renderChats();
    $("composer-input").focus();
  }

  function setStatus(status) {
    state.status = status;
    document.querySelectorAll(".switch-option").forEach(function (button) {
      button.classList.toggle("is-active", button.dataset.status === status);
    });
  }

  // --- rendering ------------------------------------------------------------------------------------

  function renderQueue(known) {
    const list = $("queue-list");
    clear(list);
    const total = Math.max(state.queueTotal, state.queue.length);
    $("queue-count").textContent = total;
    $("operators-count").textContent = state.operatorsAvailable;
    const badge = $("queue-badge");
    badge.textContent = total;
    badge.classList.toggle("hot", total > 0);
    if (!state.queue.length) {
      list.appendChild(el("li", "empty", T.queue_empty));
      return;
    }
    state.queue.forEach(function (request) {
      const item = el("li", "item");
      if (known && !known.has(request.session_id)) item.classList.add("is-new");
      const top = el("div", "item-row");
      top.appendChild(el("span", "item-title", visitorLabel(request) + " · " + shortId(request.session_id)));
      const wait = el("span", "wait", waited(request.waiting_since));
      wait.dataset.since = request.waiting_since;
      top.appendChild(wait);
      item.appendChild(top);
      if (request.preview) item.appendChild(el("div", "item-preview", request.preview));
      const bottom = el("div", "item-row");
      const meta = el("span", "item-meta");
      if (request.tour) meta.appendChild(el("span", "tag", request.tour.title));
      if (request.requeued) meta.appendChild(el("span", "tag warn", T.requeued));
      bottom.appendChild(meta);
      const take = el("button", "button primary small", T.take);
      take.type = "button";
      take.addEventListener("click", function () {
        take.disabled = true;
        send({ type: "join_support_chat", session_id: request.session_id });
      });
      bottom.appendChild(take);
      item.appendChild(bottom);
      list.appendChild(item);
    });
    if (state.queue.length < total) {
      const more = el("li", "item more");
      const button = el("button", "button small", T.show_more + " (" + (total - state.queue.length) + ")");
      button.type = "button";
      button.addEventListener("click", function () {
        button.disabled = true;
        send({ type: "get_queue", offset: state.queue.length });
      });
      more.appendChild(button);
      list.appendChild(more);
    }
  }

  function renderAssigned() {
    const list = $("assigned-list");
    clear(list);
    const others = state.assigned.filter(function (a) { return !state.me || a.operator.id !== state.me.id; });
    if (!others.length) {
      list.appendChild(el("li", "empty", "—"));
      return;
    }
    others.forEach(function (a) {
      const item = el("li", "item");
      const row = el("div", "item-row");
      row.appendChild(el("span", "item-title", shortId(a.session_id) + (a.tour ? " · " + a.tour.title : "")));
      row.appendChild(el("span", "item-meta", T.held_by + " " + a.operator.name));
      item.appendChild(row);
      list.appendChild(item);
    });
  }

  function renderChats() {
    const list = $("chat-list");
    clear(list);
    $("chats-badge").textContent = state.chats.size;
    if (!state.chats.size) {
      list.appendChild(el("li", "empty", T.no_chats));
      return;
    }
    state.chats.forEach(function (chat, sessionId) {
      const item = el("li", "item selectable" + (sessionId === state.selected ? " is-selected" : ""));
      const row = el("div", "item-row");
      row.appendChild(el("span", "item-title", visitorLabel(chat.visitor) + " · " + shortId(sessionId)));
      if (chat.unread) row.appendChild(el("span", "unread", chat.unread));
      item.appendChild(row);
      const last = chat.messages[chat.messages.length - 1];
      if (last) item.appendChild(el("div", "item-preview", last.message));
      item.addEventListener("click", function () { select(sessionId); });
      list.appendChild(item);
    });
  }

  function authorName(message) {
    if (message.author === "visitor") return T.visitor;
    if (message.author === "ai") return T.ai;
    if (message.author === "operator") return message.operator ? message.operator.name : T.you;
    return T.system;
  }

  function renderTranscript() {
    const chat = state.chats.get(state.selected);
    const list = $("transcript");
    clear(list);
    if (!chat) return;
    let sawAi = false;
    let afterAi = false;
    chat.messages.forEach(function (message) {
      if (message.author === "ai") sawAi = true;
      if (sawAi && !afterAi && message.author === "operator") {
        afterAi = true;
        list.appendChild(el("li", "divider", T.operator));
      }
      const item = el("li", "message " + message.author + (message.pending ? " pending" : "") + (message.failed ? " failed" : ""));
      const author = el("span", "author", authorName(message) + " · " + (message.timestamp ? time(message.timestamp) : "…"));
      if (message.failed) author.textContent += " · " + T.not_delivered;
      item.appendChild(author);
      item.appendChild(el("div", "bubble", message.message));
      list.appendChild(item);
    });
    list.scrollTop = list.scrollHeight;
  }

  function renderTyping() {
    const chat = state.chats.get(state.selected);
    $("typing-indicator").hidden = !chat || chat.typingUntil < Date.now();
  }

  function renderChat() {
    const chat = state.chats.get(state.selected);
    $("empty-state").hidden = Boolean(chat);
    $("chat").hidden = !chat;
    if (!chat) {
      renderContext(null);
      return;
    }
    $("chat-title").textContent = visitorLabel(chat.visitor) + " · " + shortId(state.selected);
    const subtitle = [];
    if (chat.request && chat.request.reason) subtitle.push(T.reason + ": " + chat.request.reason);
    if (chat.transferredFrom) subtitle.push(T.transferred_from + " " + chat.transferredFrom);
    $("chat-subtitle").textContent = subtitle.join(" · ");
    renderTranscript();
    renderTyping();
    renderContext(chat);
  }

  function definition(list, term, value) {
    list.appendChild(el("dt", null, term));
    list.appendChild(el("dd", null, value));
  }

  function renderContext(chat) {
    document.dispatchEvent(new CustomEvent("support:select", { detail: { sessionId: chat ? state.selected : null } }));
    const tourCard = $("tour-card");
    const visitorCard = $("visitor-card");
    clear(tourCard);
    clear(visitorCard);
    if (!chat) {
      tourCard.className = "card muted";
      tourCard.textContent = T.select_chat;
      return;
    }
    if (chat.tour) {
      tourCard.className = "card";
      tourCard.appendChild(el("div", "card-title", chat.tour.title));
      const facts = el("dl");
      definition(facts, T.dates, chat.tour.dates_label);
      definition(facts, T.price, chat.tour.price_label);
      definition(facts, T.free_places, chat.tour.free_places);
      tourCard.appendChild(facts);
      if (chat.tour.url) {
        const link = el("a", "link", T.open_tour);
        link.href = chat.tour.url;
        link.target = "_blank";
        link.rel = "noopener";
        tourCard.appendChild(link);
      }
    } else {
      tourCard.className = "card muted";
      tourCard.textContent = T.no_tour;
    }
    visitorCard.className = "card";
    const visitor = chat.visitor || {};
    const facts = el("dl");
    if (visitor.user) {
      definition(facts, T.account, (visitor.user.name || visitor.user.username) + (visitor.user.email ? " · " + visitor.user.email : ""));
    } else {
      definition(facts, T.account, T.anonymous);
    }
    if (visitor.since) definition(facts, T.since, dateTime(visitor.since));
    visitorCard.appendChild(facts);
    if (visitor.user) {
      visitorCard.appendChild(el("div", "card-title", T.bookings));
      if (!visitor.bookings || !visitor.bookings.length) visitorCard.appendChild(el("div", "item-meta", T.no_bookings));
      (visitor.bookings || []).forEach(function (b) {
        const row = el("div", "booking");
        row.appendChild(el("div", null, b.reference + " · " + b.tour));
        row.appendChild(el("div", "item-meta", b.start_date_label + " · " + b.participants + " · " + b.status_label));
        visitorCard.appendChild(row);
      });
    }
  }

  function renderCanned() {
    const box = $("canned");
    clear(box);
    (config.canned_replies || []).forEach(function (reply) {
      const chip = el("button", "chip", reply.title);
      chip.type = "button";
      chip.title = reply.text;
      chip.addEventListener("click", function () { insertText(reply.text); });
      box.appendChild(chip);
    });
  }

  function insertText(text) {
    const input = $("composer-input");
    const start = input.selectionStart || 0;
    const end = input.selectionEnd || 0;
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    input.focus();
    input.selectionStart = input.selectionEnd = start + text.length;
    sendTyping(true); // no input event fires for a programmatic change
  }

  function ticketStatusLabel(status) {
    return { new: T.ticket_new, in_progress: T.ticket_in_progress, done: T.ticket_done }[status] || status;
  }

  function renderTickets() {
    const list = $("ticket-list");
    clear(list);
    const open = state.tickets.filter(function (t) { return t.status !== "done"; });
    $("tickets-badge").textContent = open.length;
    if (!state.tickets.length) {
      list.appendChild(el("li", "empty", T.tickets_empty));
      return;
    }
    state.tickets.slice(0, 30).forEach(function (ticket) {
      const item = el("li", "item");
      const row = el("div", "item-row");
      row.appendChild(el("span", "item-title", ticket.name));
      row.appendChild(el("span", "tag" + (ticket.status === "new" ? " warn" : ""), ticketStatusLabel(ticket.status)));
      item.appendChild(row);
      item.appendChild(el("div", "item-meta", [ticket.phone, ticket.email].filter(Boolean).join(" · ") + " · " + dateTime(ticket.created_at)));
      item.appendChild(el("div", "item-preview", ticket.question));
      const actions = el("div", "item-row");
      if (ticket.status === "new") actions.appendChild(ticketButton(ticket, "in_progress", T.take_ticket));
      if (ticket.status !== "done") actions.appendChild(ticketButton(ticket, "done", T.done_ticket));
      item.appendChild(actions);
      list.appendChild(item);
    });
  }

  function ticketButton(ticket, status, label) {
    const button = el("button", "button secondary small", label);
    button.type = "button";
    button.addEventListener("click", function () {
      send({ type: "set_ticket_status", ticket_id: ticket.id, status: status });
    });
    return button;
  }

  function renderTransferList() {
    const list = $("transfer-list");
    clear(list);
    const others = (state.operators || []).filter(function (o) {
      return (!state.me || o.id !== state.me.id) && o.status === "online";
    });
    if (!others.length) {
      list.appendChild(el("li", "empty", T.transfer_none));
      return;
    }
    others.forEach(function (operator) {
      const item = el("li", "item selectable");
      const row = el("div", "item-row");
      row.appendChild(el("span", "item-title", operator.name));
      row.appendChild(el("span", "item-meta", T.chats + ": " + operator.chats + "/" + operator.capacity));
      item.appendChild(row);
      item.addEventListener("click", function () {
        send({ type: "transfer_chat", session_id: state.selected, operator_id: operator.id });
        $("transfer-dialog").close();
      });
      list.appendChild(item);
    });
  }

  // --- the operator's actions ----------------------------------------------------------------------

  $("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text || !state.selected) return;
    const clientId = uuid();
    const chat = state.chats.get(state.selected);
    chat.messages.push({ client_id: clientId, author: "operator", message: text, pending: true, operator: state.me });
    state.pending.set(clientId, { sessionId: state.selected, text: text });
    send({ type: "message", session_id: state.selected, client_id: clientId, message: text });
    sendTyping(false);
    input.value = "";
    renderTranscript();
  });

  $("composer-input").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });

  function sendTyping(typing) {
    if (!state.selected) return;
    clearTimeout(state.typingTimer);
    if (typing) {
      state.typingTimer = setTimeout(function () { sendTyping(false); }, 4000);
      if (Date.now() - state.typingSentAt < 3000) return;
      state.typingSentAt = Date.now();
    } else {
      state.typingSentAt = 0;
    }
    send({ type: "typing", session_id: state.selected, typing: typing });
  }

  $("composer-input").addEventListener("input", function () { sendTyping(true); });

  $("close-button").addEventListener("click", function () {
    if (state.selected && window.confirm(T.close_confirm)) {
      send({ type: "close_chat", session_id: state.selected });
    }
  });

  $("transfer-button").addEventListener("click", function () {
    renderTransferList();
    send({ type: "get_operators" });
    $("transfer-dialog").showModal();
  });

  document.querySelectorAll(".switch-option").forEach(function (button) {
    button.addEventListener("click", function () {
      send({ type: "set_status", status: button.dataset.status });
    });
  });

  // Live waiting times and typing timeouts.
  setInterval(function () {
    document.querySelectorAll(".wait[data-since]").forEach(function (node) {
      node.textContent = waited(node.dataset.since);
      node.classList.toggle("long", Date.now() - new Date(node.dataset.since).getTime() > 5 * 60 * 1000);
    });
    renderTyping();
  }, 1000);

  renderSound();
  renderCanned();
  renderTickets();
  renderQueue(null);
  renderChats();
  renderAssigned();
  connect();
})();
