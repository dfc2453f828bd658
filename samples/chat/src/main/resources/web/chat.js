// The chat page: one WebSocket to this node; every string from others is shown with textContent,
// never as HTML. Reconnects (and joins its rooms again) when the connection drops.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const joined = new Map();          // room -> user
  const seen = new Map();            // room -> Set of message seq shown
  const people = new Map();          // room -> users present
  const pending = new Map();         // post id -> its line, until the ack (or an error) for it
  let current = null;                // the room messages are posted to
  let socket = null;
  let nextId = 1;
  let retry = 500;

  function status(text, ok) {
    $("status").textContent = text;
    $("status").className = "status " + (ok ? "ok" : "down");
  }

  function error(text) {
    $("error").textContent = text || "";
  }

  function line(room, who, text, cls, at) {
    const div = document.createElement("div");
    div.className = "line " + (cls || "");
    const when = new Date(at || Date.now());
    const time = document.createElement("time");
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleTimeString();
    const r = document.createElement("span");
    r.className = "room";
    r.textContent = "#" + room;
    const w = document.createElement("span");
    w.className = "user";
    w.textContent = who;
    const t = document.createElement("span");
    t.className = "text";
    t.textContent = text;
    div.append(time, r, w, t);
    $("log").append(div);
    $("log").scrollTop = $("log").scrollHeight;
    return div;
  }

  function state(div, cls, text) {
    div.classList.remove("pending", "acked", "failed");
    div.classList.add(cls);
    let s = div.querySelector(".state");
    if (!s) { s = document.createElement("span"); s.className = "state"; div.append(s); }
    s.textContent = text;
  }

  // An own post: shown at once as pending; the ack marks it acknowledged with its seq, and the room's
  // echo of that seq is then not shown a second time.
  function onAck(msg) {
    const div = pending.get(msg.id);
    if (!div) return;
    pending.delete(msg.id);
    state(div, "acked", "✓ acknowledged #" + msg.seq);
    div.dataset.seq = String(msg.seq);
    const shown = seen.get(msg.room) || new Set();
    seen.set(msg.room, shown);
    shown.add(msg.seq);
  }

  function showMessage(m) {
    const shown = seen.get(m.room) || new Set();
    seen.set(m.room, shown);
    if (shown.has(m.seq)) return;
    shown.add(m.seq);
    // the room's echo of an own post that is not acknowledged yet: that post's line, not a new one
    for (const div of pending.values()) {
      if (div.dataset.room === m.room && div.dataset.text === m.text && !div.dataset.seq
          && joined.get(m.room) === m.user) {
        div.dataset.seq = String(m.seq);
        return;
      }
    }
    line(m.room, m.user, m.text, "message", m.at).dataset.seq = String(m.seq);
  }

  function renderRooms() {
    const box = $("rooms");
    box.replaceChildren();
    for (const room of joined.keys()) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = "#" + room;
      b.className = room === current ? "current" : "";
      b.onclick = () => { current = room; renderRooms(); };
      box.append(b);
    }
    const can = current !== null && socket && socket.readyState === WebSocket.OPEN;
    $("text").disabled = !can;
    $("send").disabled = !can;
    $("leave").disabled = !can;
    renderPeople();
  }

  function renderPeople() {
    const list = $("participants");
    list.replaceChildren();
    $("people-title").textContent = current === null ? "In the room" : "In #" + current;
    for (const user of (current !== null && people.get(current)) || []) {
      const li = document.createElement("li");
      li.textContent = user;
      list.append(li);
    }
  }

  function send(obj) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(obj));
  }

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    socket = new WebSocket(url);
    socket.onopen = () => {
      status("connected to " + location.host, true);
      retry = 500;
      for (const [room, user] of joined) send({ type: "join", room, user });
      renderRooms();
    };
    socket.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      switch (msg.type) {
        case "history": msg.messages.forEach(showMessage); presence(msg.room, msg.users); break;
        case "message": showMessage(msg); break;
        case "presence": presence(msg.room, msg.users); break;
        case "notice": line(msg.room, "*", msg.text, "notice"); joined.delete(msg.room);
          if (current === msg.room) current = joined.keys().next().value || null; renderRooms(); break;
        case "error": error(msg.error);
          if (msg.id && pending.has(msg.id)) {
            // chat.ack-timeout: the room never answered, the post may still be stored (its message
            // would then appear)
            const unknown = msg.error.startsWith("no acknowledgement");
            state(pending.get(msg.id), "failed", unknown ? "? no answer" : "✗ not sent");
            pending.delete(msg.id);
          }
          break;
        case "ack": error(""); onAck(msg); break;
        default: break;
      }
    };
    socket.onclose = () => {
      status("disconnected: reconnecting…", false);
      renderRooms();
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    };
  }

  function presence(room, users) {
    people.set(room, (users || []).slice().sort());
    if (room === current) renderPeople();
  }

  $("join").onsubmit = (e) => {
    e.preventDefault();
    const user = $("user").value.trim();
    const room = $("room").value.trim();
    if (!user || !room) return;
    joined.set(room, user);
    current = room;
    send({ type: "join", room, user });
    renderRooms();
  };

  $("post").onsubmit = (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    if (!text || current === null) return;
    const id = "c" + nextId++;
    const div = line(current, joined.get(current), text, "message own");
    state(div, "pending", "… pending");
    div.dataset.id = id;
    div.dataset.room = current;
    div.dataset.text = text;
    pending.set(id, div);
    send({ type: "post", room: current, text, id });
    $("text").value = "";
  };

  $("leave").onclick = () => {
    if (current === null) return;
    const room = current;
    send({ type: "leave", room });
    line(room, "*", "you left #" + room, "notice");
    joined.delete(room);
    people.delete(room);
    current = joined.keys().next().value || null;
    renderRooms();
  };

  setInterval(() => send({ type: "ping" }), 20000);
  connect();
})();
