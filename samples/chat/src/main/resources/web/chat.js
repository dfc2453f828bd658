// The chat page: one WebSocket to this node; every string from others is shown with textContent,
// never as HTML. Reconnects (and joins its rooms again) when the connection drops.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const joined = new Map();          // room -> user
  const seen = new Map();            // room -> Set of message seq shown
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

  function line(room, who, text, cls) {
    const div = document.createElement("div");
    div.className = "line " + (cls || "");
    const r = document.createElement("span");
    r.className = "room";
    r.textContent = "#" + room;
    const w = document.createElement("span");
    w.className = "user";
    w.textContent = who;
    const t = document.createElement("span");
    t.className = "text";
    t.textContent = text;
    div.append(r, w, t);
    $("log").append(div);
    $("log").scrollTop = $("log").scrollHeight;
  }

  function showMessage(m) {
    const shown = seen.get(m.room) || new Set();
    seen.set(m.room, shown);
    if (shown.has(m.seq)) return;
    shown.add(m.seq);
    line(m.room, m.user, m.text, "message");
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
        case "error": error(msg.error); break;
        case "ack": error(""); break;
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
    const el = document.querySelector("#rooms");
    el.title = "#" + room + ": " + users.join(", ");
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
    send({ type: "post", room: current, text, id: "c" + nextId++ });
    $("text").value = "";
  };

  setInterval(() => send({ type: "ping" }), 20000);
  connect();
})();
