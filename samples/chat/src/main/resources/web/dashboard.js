// The live dashboard: a snapshot pushed every second over /dashboard/ws. Every string is set with
// textContent (room and user names come from users).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const colours = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"];
  const colourOf = new Map();
  function colour(node) {
    if (!colourOf.has(node)) colourOf.set(node, colours[colourOf.size % colours.length]);
    return colourOf.get(node);
  }
  function short(address) { return (address || "").replace(/^pekko:\/\/[^@]+@/, ""); }

  function table(id, head, rows) {
    const t = $(id);
    t.replaceChildren();
    const tr = document.createElement("tr");
    head.forEach((h) => { const th = document.createElement("th"); th.textContent = h; tr.append(th); });
    t.append(tr);
    for (const row of rows) {
      const r = document.createElement("tr");
      row.forEach((cell) => {
        const td = document.createElement("td");
        if (cell && typeof cell === "object") { td.textContent = cell.text; td.className = cell.cls || ""; }
        else td.textContent = cell === null || cell === undefined ? "—" : String(cell);
        r.append(td);
      });
      t.append(r);
    }
  }

  function ring(parts) {
    const svg = $("ring");
    svg.replaceChildren();
    const legend = $("ring-legend");
    legend.replaceChildren();
    let angle = -Math.PI / 2;
    const ns = "http://www.w3.org/2000/svg";
    for (const p of parts) {
      const sweep = p.share * 2 * Math.PI;
      const x1 = 100 * Math.cos(angle), y1 = 100 * Math.sin(angle);
      const x2 = 100 * Math.cos(angle + sweep), y2 = 100 * Math.sin(angle + sweep);
      const path = document.createElementNS(ns, "path");
      const large = sweep > Math.PI ? 1 : 0;
      path.setAttribute("d", parts.length === 1
        ? "M 0 -100 A 100 100 0 1 1 -0.01 -100 Z"
        : `M 0 0 L ${x1} ${y1} A 100 100 0 ${large} 1 ${x2} ${y2} Z`);
      path.setAttribute("fill", colour(p.node));
      path.setAttribute("stroke", "#fff");
      svg.append(path);
      const li = document.createElement("li");
      li.style.color = colour(p.node);
      li.textContent = short(p.node) + ": " + p.partitions + " partitions (" + (p.share * 100).toFixed(1) + " %)";
      legend.append(li);
      angle += sweep;
    }
  }

  function render(s) {
    $("self").textContent = "this node: " + short(s.self) + " (" + s.selfName + "), " + s.connections + " connection(s)";
    table("members", ["node", "status", "reachable", "role"],
      (s.members || []).map((m) => [
        { text: short(m.address), cls: "node" },
        { text: m.status, cls: m.status === "Up" ? "ok" : "down" },
        { text: m.reachable ? "yes" : "NO", cls: m.reachable ? "ok" : "down" },
        [m.address === s.leader ? "leader" : null, m.address === s.oldest ? "oldest: singletons" : null]
          .filter((x) => x).join(", ")
      ]));
    ring(s.ring || []);
    table("rooms", ["room", "node", "participants", "messages"],
      (s.rooms || []).map((r) => [r.room, short(r.node), r.participants, r.messages]));
    table("daemons", ["daemon", "node", "epoch"],
      (s.daemons || []).map((d) => [d.name, short(d.node), d.epoch]));
    table("cron", ["job", "spec", "next", "last", "owner", "recent runs"],
      (s.cron || []).map((j) => [j.name + (j.paused ? " (paused)" : ""), j.spec + " " + j.zone,
        j.next, j.last, short(j.owner), (j.runs || []).map((r) => r.outcome).join(" ")]));
    const groups = [];
    for (const [g, perNode] of Object.entries(s.groups || {})) {
      groups.push([g, Object.entries(perNode).map(([n, c]) => short(n) + ": " + c).join(", ")]);
    }
    table("groups", ["group", "members per node"], groups);
    const names = [];
    for (const [n, list] of Object.entries(s.names || {})) names.push([short(n), list.join(", ")]);
    table("names", ["node", "names"], names);
    const errors = [s.roomsError, s.daemonsError, s.cronError].filter((e) => e);
    $("status").textContent = errors.length ? "partial: " + errors.join("; ") : "live " + s.time;
    $("status").className = "status " + (errors.length ? "down" : "ok");
  }

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/dashboard/ws";
    const ws = new WebSocket(url);
    ws.onmessage = (e) => { const s = JSON.parse(e.data); if (s.self) render(s); };
    ws.onclose = () => {
      $("status").textContent = "disconnected: reconnecting…";
      $("status").className = "status down";
      setTimeout(connect, 1000);
    };
  }
  connect();
})();
