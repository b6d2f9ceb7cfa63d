"use strict";
// Sortable tables: click a header to sort by that column, again to reverse.
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

document.querySelectorAll("table.sortable").forEach((table) => {
  table.querySelectorAll("th").forEach((th, column) => {
    th.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      sortBy(table, column, th.dataset.type, ascending);
    });
  });
});

// Live refresh: a served page asks for the campaign's version and reloads when it changed.
const live = document.body.dataset.live;
if (live) {
  const shown = document.body.dataset.version;
  setInterval(async () => {
    try {
      const reply = await fetch(live, { cache: "no-store" });
      if (reply.ok && (await reply.json()).version !== shown) location.reload();
    } catch (error) {
      // the server stopped; keep showing the page
    }
  }, 2000);
}
