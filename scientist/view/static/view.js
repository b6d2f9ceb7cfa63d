"use strict";
// Sortable tables: click a header, or focus it and press Enter or Space, to sort by that
// column; again to reverse. A table's order survives a live update of its section.
const sortOrders = new Map(); // table id -> [column, ascending]

function sortBy(table, column, type, ascending) {
  const body = table.tBodies[0];
  const key = (row) => {
    const cell = row.cells[column];
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    if (type !== "number") return raw.toLowerCase();
    const value = parseFloat(raw);
    return Number.isNaN(value) ? -Infinity : value;
  };
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
  });
  rows.forEach((row) => body.appendChild(row));
}

function applySort(table, column, ascending) {
  const headers = table.tHead.rows[0].cells;
  Array.from(headers).forEach((other) => other.removeAttribute("aria-sort"));
  headers[column].setAttribute("aria-sort", ascending ? "ascending" : "descending");
  sortBy(table, column, headers[column].dataset.type, ascending);
}

function sortOn(th) {
  const table = th.closest("table");
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  sortOrders.set(table.id, [th.cellIndex, ascending]);
  applySort(table, th.cellIndex, ascending);
}

function prepareTables() {
  document.querySelectorAll("table.sortable thead th").forEach((th) => { th.tabIndex = 0; });
  sortOrders.forEach(([column, ascending], id) => {
    const table = document.getElementById(id);
    if (table) applySort(table, column, ascending);
  });
}

function sortableHeader(event) {
  return event.target.closest ? event.target.closest("table.sortable thead th") : null;
}
document.addEventListener("click", (event) => {
  const th = sortableHeader(event);
  if (th) sortOn(th);
});
document.addEventListener("keydown", (event) => {
  const th = sortableHeader(event);
  if (th && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    sortOn(th);
  }
});

// Zoomable graphs: the buttons scale the drawing (fit: to the width, never below MIN_ZOOM,
// where labels are 10 px, so that a wide graph pans instead of shrinking to a strip); dragging or scrolling pans. The scale
// survives live updates.
const MIN_ZOOM = 0.75;
const zooms = new Map(); // graph id -> scale

function naturalWidth(svg) { // Graphviz sizes its drawing in points
  const box = svg.viewBox.baseVal;
  return (box && box.width ? box.width : 600) * 4 / 3;
}

function fitZoom(graph, svg) {
  return Math.max(MIN_ZOOM, Math.min(1, (graph.clientWidth - 16) / naturalWidth(svg)));
}

function setZoom(graph, scale) {
  const svg = graph.querySelector("svg");
  if (!svg) return;
  zooms.set(graph.id, scale);
  svg.style.width = `${naturalWidth(svg) * scale}px`;
  svg.style.height = "auto";
}

function prepareGraphs() {
  document.querySelectorAll(".graph.zoomable").forEach((graph) => {
    const svg = graph.querySelector("svg");
    if (svg) setZoom(graph, zooms.has(graph.id) ? zooms.get(graph.id) : fitZoom(graph, svg));
  });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest ? event.target.closest("[data-zoom]") : null;
  if (!button) return;
  const graph = document.getElementById(button.parentElement.dataset.graph);
  const svg = graph && graph.querySelector("svg");
  if (!svg) return;
  const now = zooms.get(graph.id) || 1;
  const step = { in: now * 1.25, out: now / 1.25, fit: fitZoom(graph, svg) };
  setZoom(graph, Math.min(4, Math.max(0.1, step[button.dataset.zoom])));
});

let dragging = null;
document.addEventListener("pointerdown", (event) => {
  const graph = event.target.closest ? event.target.closest(".graph.zoomable") : null;
  if (!graph || event.target.closest("a") || event.button !== 0) return;
  dragging = { graph, x: event.clientX, y: event.clientY };
});
document.addEventListener("pointermove", (event) => {
  if (!dragging) return;
  dragging.graph.scrollLeft -= event.clientX - dragging.x;
  dragging.graph.scrollTop -= event.clientY - dragging.y;
  dragging.x = event.clientX;
  dragging.y = event.clientY;
});
document.addEventListener("pointerup", () => { dragging = null; });

// Comparison: tick two ideas of the leaderboard (the last two ticked count) to get a link
// to their comparison; the ticks survive live updates.
const picked = [];

function preparePicks() {
  document.querySelectorAll("input.pick").forEach((box) => {
    box.checked = picked.includes(box.value);
  });
  const link = document.getElementById("compare-link");
  if (!link) return;
  if (picked.length === 2) {
    const [a, b] = picked.map(encodeURIComponent);
    link.href = `compare/${a}/${b}.html`;
    link.removeAttribute("aria-disabled");
    link.textContent = `Compare ${picked[0]} with ${picked[1]}`;
  } else {
    link.removeAttribute("href");
    link.setAttribute("aria-disabled", "true");
    link.textContent = "Tick two ideas to compare them";
  }
}

document.addEventListener("change", (event) => {
  const box = event.target;
  if (!box.matches || !box.matches("input.pick")) return;
  const at = picked.indexOf(box.value);
  if (at >= 0) picked.splice(at, 1);
  if (box.checked) picked.push(box.value);
  if (picked.length > 2) picked.shift();
  preparePicks();
});

// Elapsed times of the work in flight count on between updates (site.py's `_elapsed` words).
function elapsed(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const two = (n) => String(n).padStart(2, "0");
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${two(whole % 60)} s`;
  return `${Math.floor(whole / 3600)} h ${two(Math.floor((whole % 3600) / 60))} min`;
}

function tick() {
  const now = Date.now() / 1000;
  document.querySelectorAll("[data-since]").forEach((cell) => {
    cell.textContent = elapsed(now - parseFloat(cell.dataset.since));
  });
}

// Live updates: a served page asks for its version and the campaign's state every POLL_MS.
// On a new version it fetches itself and replaces only the parts (`data-patch`) whose HTML
// changed, keeping scroll, sort order and which details are open; the badge says whether
// the campaign runs, has finished or stopped, or whether the view's server stopped answering.
const POLL_MS = 500;
const served = new Map(); // part id -> the HTML the server last sent for it

function partIds(root) {
  return Array.from(root.querySelectorAll("[data-patch]"), (part) => part.id).join(" ");
}

function patch(fresh) {
  if (partIds(fresh) !== partIds(document)) {
    location.reload();
    return;
  }
  fresh.querySelectorAll("[data-patch]").forEach((part) => {
    if (served.get(part.id) === part.innerHTML) return;
    const target = document.getElementById(part.id);
    const open = new Map(Array.from(target.querySelectorAll("details[id]"), (d) => [d.id, d.open]));
    target.innerHTML = part.innerHTML;
    target.querySelectorAll("details[id]").forEach((d) => {
      if (open.has(d.id)) d.open = open.get(d.id);
    });
    served.set(part.id, part.innerHTML);
  });
  document.body.dataset.version = fresh.body.dataset.version;
  prepareTables();
  prepareGraphs();
  preparePicks();
  tick();
}

function showState(badge, state, word, title) {
  badge.className = `badge state-${state}`;
  badge.textContent = word;
  badge.title = title;
}

async function poll(live, badge) {
  let reply;
  try {
    reply = await fetch(live, { cache: "no-store" });
  } catch (error) {
    showState(badge, "unreachable", "unreachable",
      "the view's server does not answer; this page shows what it last saw");
    return;
  }
  if (!reply.ok) { // e.g. a torn record the server cannot read yet
    showState(badge, "unknown", "error", `the view answered HTTP ${reply.status}`);
    return;
  }
  const answer = await reply.json();
  showState(badge, answer.state, answer.badge, answer.summary);
  if (answer.version === document.body.dataset.version) return;
  const page = await fetch(location.href, { cache: "no-store" });
  if (page.ok) patch(new DOMParser().parseFromString(await page.text(), "text/html"));
}

document.querySelectorAll("[data-patch]").forEach((part) => served.set(part.id, part.innerHTML));
prepareTables();
prepareGraphs();
const live = document.body.dataset.live;
if (live) {
  const badge = document.getElementById("badge");
  let polling = false;
  setInterval(async () => {
    if (polling) return;
    polling = true;
    try {
      await poll(live, badge);
    } catch (error) {
      // a page fetched mid-write; the next poll tries again
    } finally {
      polling = false;
    }
  }, POLL_MS);
  setInterval(tick, 1000);
}
