// The live dashboard: a snapshot pushed every second over /dashboard/ws. Every string is set with
// textContent (room and user names come from users). Times arrive as epoch millis and are shown in
// the viewer's zone. Graphs are drawn with uPlot (vendored, /vendor/uPlot.iife.min.js).
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

  // ---- graphs: one uPlot chart per series, one line per node; rebuilt when the nodes change ----
  const titles = {
    postsPerSecond: "posts/s (through the node's connections)",
    deliveryP99Ms: "delivery p99, ms",
    members: "members (as the node sees them)",
    registryEntries: "entries in the registry",
    fleetWorkers: "fleet workers active (rooms)"
  };
  const charts = new Map(); // series name -> { plot, key, div }
  function fmtTime(seconds) { return new Date(seconds * 1000).toLocaleTimeString(); }

  function graphs(series) {
    const box = $("graphs");
    const names = (series && series.names) || [];
    const perNode = (series && series.nodes) || {};
    const nodes = Object.keys(perNode).sort();
    const key = nodes.join(" ");
    // x: the union of the sampling instants (seconds), each node's value or null
    const xs = new Set();
    for (const n of nodes) perNode[n].at.forEach((t) => xs.add(Math.round(t / 1000)));
    const x = Array.from(xs).sort((a, b) => a - b);
    const index = new Map(x.map((t, i) => [t, i]));
    const legend = $("graph-legend");
    legend.replaceChildren();
    for (const n of nodes) {
      const li = document.createElement("li");
      li.style.color = colour(n);
      li.textContent = short(n);
      legend.append(li);
    }
    for (const name of names) {
      if (charts.has(name)) continue;
      const div = document.createElement("div");
      div.className = "graph";
      div.id = "graph-" + name;
      const h = document.createElement("h3");
      const title = document.createElement("span");
      title.textContent = titles[name] || name;
      const count = document.createElement("span");
      count.className = "points";
      h.append(title, " ", count);
      const plotBox = document.createElement("div");
      div.append(h, plotBox);
      box.append(div);
      charts.set(name, { div, plotBox, count, plot: null, key: null });
    }
    for (const name of names) {
      const data = [x];
      let points = 0;
      for (const n of nodes) {
        const ys = new Array(x.length).fill(null);
        perNode[n].at.forEach((t, i) => {
          const v = perNode[n][name][i];
          ys[index.get(Math.round(t / 1000))] = v;
          if (v !== null && v !== undefined) points++;
        });
        data.push(ys);
      }
      const chart = charts.get(name);
      chart.div.dataset.points = String(points);
      chart.count.textContent = "(" + points + " points)";
      if (typeof uPlot === "undefined") { chart.plotBox.textContent = "graph library not loaded"; continue; }
      if (chart.key !== key) {
        if (chart.plot) chart.plot.destroy();
        chart.plotBox.replaceChildren();
        const width = Math.max(240, chart.div.clientWidth - 4);
        chart.plot = new uPlot({
          width, height: 150, legend: { show: false }, cursor: { show: true },
          scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
          axes: [{}, { size: 45 }],
          series: [{ value: (u, v) => (v == null ? "—" : fmtTime(v)) }].concat(nodes.map((n) => ({
            label: short(n), stroke: colour(n), width: 1.5, spanGaps: true, points: { show: false }
          })))
        }, data, chart.plotBox);
        chart.key = key;
      } else {
        chart.plot.setData(data);
      }
    }
  }

  window.addEventListener("resize", () => {
    for (const chart of charts.values()) {
      if (chart.plot) chart.plot.setSize({ width: Math.max(240, chart.div.clientWidth - 4), height: 150 });
    }
  });

  function timeline(events) {
    const list = $("timeline");
    list.replaceChildren();
    for (const e of events || []) {
      const li = document.createElement("li");
      li.className = "k-" + e.kind;
      const t = document.createElement("time");
      const when = new Date(e.at);
      t.dateTime = when.toISOString();
      t.textContent = when.toLocaleTimeString();
      const k = document.createElement("span");
      k.className = "kind";
      k.textContent = e.kind;
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = e.text.replace(/pekko:\/\/[^@\s]+@/g, "");
      li.append(t, k, text);
      list.append(li);
    }
  }

  function when(millis) {
    return millis === null || millis === undefined ? null : new Date(millis).toLocaleString();
  }

  function cron(jobs) {
    const t = $("cron");
    table("cron", ["job", "schedule", "next", "last", "delivered by", "recent runs"], []);
    for (const j of jobs || []) {
      const r = document.createElement("tr");
      const cells = [j.name + (j.paused ? " (paused)" : ""), null, when(j.nextMillis), when(j.lastMillis),
        short(j.owner), (j.runs || []).map((x) => x.outcome + " " + new Date(x.atMillis).toLocaleTimeString()).join(", ")];
      cells.forEach((cell, i) => {
        const td = document.createElement("td");
        if (i === 1) {
          const code = document.createElement("code");
          code.textContent = j.spec + " (" + j.zone + ")";
          const d = document.createElement("span");
          d.className = "describe";
          d.textContent = j.description || "";
          td.append(code, d);
        } else {
          td.textContent = cell === null || cell === undefined || cell === "" ? "—" : String(cell);
        }
        r.append(td);
      });
      t.append(r);
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
    cron(s.cron);
    graphs(s.series);
    timeline(s.timeline);
    const groups = [];
    for (const [g, perNode] of Object.entries(s.groups || {})) {
      groups.push([g, Object.entries(perNode).map(([n, c]) => short(n) + ": " + c).join(", ")]);
    }
    table("groups", ["group", "members per node"], groups);
    const names = [];
    for (const [n, list] of Object.entries(s.names || {})) names.push([short(n), list.join(", ")]);
    table("names", ["node", "names"], names);
    const errors = [s.roomsError, s.daemonsError, s.cronError].filter((e) => e);
    $("status").textContent = errors.length ? "partial: " + errors.join("; ")
      : "live " + new Date(s.timeMillis).toLocaleTimeString();
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
