/* The dashboard's booking panel: bookings proposed and made in the selected chat,
 * with «Подтвердить» / «Отменить бронь» (POST /support/bookings/<reference>/<action>/).
 *
 * An add-on of dashboard.js: it reads the same socket frames through the
 * `support:frame` event and follows the selected chat through `support:select`.
 * Visitor-written text (names) is only ever set with textContent.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("support-config").textContent);
  const T = config.booking_strings || {};
  const bookings = new Map(); // session id -> Map(reference -> booking)
  const proposals = new Map(); // session id -> [{tour, participants}]
  let selected = null;

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function remember(sessionId, booking) {
    if (!bookings.has(sessionId)) bookings.set(sessionId, new Map());
    bookings.get(sessionId).set(booking.reference, booking);
  }

  function sessionOf(reference) {
    for (const [sessionId, rows] of bookings) if (rows.has(reference)) return sessionId;
    return null;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function act(booking, action, button) {
    if (action === "cancel" && !window.confirm(T.confirm_cancel)) return;
    button.disabled = true;
    fetch("/support/bookings/" + encodeURIComponent(booking.reference) + "/" + action + "/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    })
      .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
      .then(function (result) {
        if (!result.ok) throw new Error((result.body.error && result.body.error.message) || T.failed);
        const sessionId = sessionOf(booking.reference);
        if (sessionId) remember(sessionId, result.body.booking);
        render();
      })
      .catch(function (error) {
        button.disabled = false;
        window.alert(error.message || T.failed);
      });
  }

  function render() {
    const panel = document.getElementById("booking-panel");
    const list = document.getElementById("chat-bookings");
    while (list.firstChild) list.removeChild(list.firstChild);
    const rows = selected && bookings.has(selected) ? Array.from(bookings.get(selected).values()) : [];
    const offered = (selected && proposals.get(selected)) || [];
    panel.hidden = !rows.length && !offered.length;
    rows.forEach(function (booking) {
      const item = el("li", "booking-row");
      item.dataset.reference = booking.reference;
      item.dataset.status = booking.status;
      item.appendChild(el("div", null, booking.reference + " · " + booking.tour.title));
      let meta = booking.tour.start_date + " · " + booking.participants + " " + T.people + " · " + booking.contact_name + " · " + booking.status_label;
      if (booking.status === "pending" && booking.hold_expires_at) {
        meta += " · " + T.held_until + " " + new Date(booking.hold_expires_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      }
      item.appendChild(el("div", "item-meta", meta));
      if (booking.status === "pending" || booking.status === "confirmed") {
        const actions = el("div", "booking-actions");
        if (booking.status === "pending") {
          const confirm = el("button", "button small primary", T.confirm);
          confirm.type = "button";
          confirm.addEventListener("click", function () { act(booking, "confirm", confirm); });
          actions.appendChild(confirm);
        }
        const cancel = el("button", "button small danger", T.cancel);
        cancel.type = "button";
        cancel.addEventListener("click", function () { act(booking, "cancel", cancel); });
        actions.appendChild(cancel);
        item.appendChild(actions);
      }
      list.appendChild(item);
    });
    offered.forEach(function (proposal) {
      const item = el("li", "booking-row proposed");
      item.appendChild(el("div", "item-meta", T.proposed + ": " + proposal.tour.title + " · " + proposal.participants + " " + T.people));
      list.appendChild(item);
    });
  }

  const on = {
    support_chat_joined: function (frame) {
      bookings.set(frame.session_id, new Map());
      ((frame.visitor && frame.visitor.chat_bookings) || []).forEach(function (b) { remember(frame.session_id, b); });
      proposals.set(frame.session_id, (frame.messages || [])
        .filter(function (m) { return m.booking_proposal && !m.booking_proposal.booking; })
        .map(function (m) { return m.booking_proposal; }));
    },
    booking_proposal: function (frame) {
      const list = proposals.get(frame.session_id) || [];
      list.push({ tour: frame.tour, participants: frame.participants, proposal_id: frame.proposal_id });
      proposals.set(frame.session_id, list);
    },
    booking_created: function (frame) {
      remember(frame.session_id, frame.booking);
      proposals.set(frame.session_id, (proposals.get(frame.session_id) || []).filter(function (p) { return p.proposal_id !== frame.proposal_id; }));
    },
    booking_updated: function (frame) {
      remember(frame.session_id, frame.booking);
    },
  };

  document.addEventListener("support:frame", function (event) {
    const handler = on[event.detail.type];
    if (!handler) return;
    handler(event.detail);
    if (event.detail.session_id === selected) render();
  });
  document.addEventListener("support:select", function (event) {
    selected = event.detail.sessionId;
    render();
  });
})();
