// On a phone a wide data table becomes one card per row (app.css, "table.data.stacked"): each cell is labelled with
// its column's heading, so a finance officer reads 実負担 … 120,000円 without scrolling the page sideways.
// Without JavaScript the table keeps its columns and scrolls inside its own box (app.css), never the page.
(function () {
  "use strict";

  var MIN_COLUMNS = 3; // two-column tables (label, value) fit a phone as they are

  // The heading text of every column, walking the head rows with their colspan/rowspan (grouped headings such as
  // 補助金 › 見込額 are joined).
  function columnLabels(thead) {
    var grid = [];
    Array.prototype.forEach.call(thead.rows, function (row, r) {
      grid[r] = grid[r] || [];
      var c = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        while (grid[r][c] !== undefined) { c += 1; }
        var text = cell.textContent.replace(/\s+/g, " ").trim();
        for (var dr = 0; dr < (cell.rowSpan || 1); dr += 1) {
          grid[r + dr] = grid[r + dr] || [];
          for (var dc = 0; dc < (cell.colSpan || 1); dc += 1) { grid[r + dr][c + dc] = text; }
        }
        c += cell.colSpan || 1;
      });
    });
    var labels = [];
    grid.forEach(function (row) {
      row.forEach(function (text, c) {
        if (text && labels[c] !== text) { labels[c] = labels[c] ? labels[c] + " " + text : text; }
      });
    });
    return labels;
  }

  function label(table) {
    // Tables with a phone layout of their own (labelled in the template) keep it.
    if (!table.tHead || table.querySelector("td[data-label]") || table.classList.contains("import-lines")) { return; }
    var labels = columnLabels(table.tHead);
    if (labels.length < MIN_COLUMNS) { return; }
    Array.prototype.forEach.call(table.tBodies, labelRows.bind(null, labels));
    if (table.tFoot) { labelRows(labels, table.tFoot); }
    table.classList.add("stacked");
  }

  // The first cell names the row (the body, the category, the date) and becomes the card's title, unlabelled.
  // A cell spanning rows (a category over its three modes) keeps the columns below it in place.
  function labelRows(labels, section) {
    var below = []; // rows still covered by a rowspan, per column
    Array.prototype.forEach.call(section.rows, function (row) {
      var c = 0;
      var covered = below.slice();
      Array.prototype.forEach.call(row.cells, function (cell) {
        while (covered[c] > 0) { c += 1; }
        var span = cell.colSpan || 1;
        if (c === 0) {
          cell.classList.add("card-title");
        } else if (labels[c] && !cell.hasAttribute("data-label") && span === 1) {
          cell.setAttribute("data-label", labels[c]);
        }
        for (var dc = 0; dc < span; dc += 1) { below[c + dc] = Math.max(below[c + dc] || 0, cell.rowSpan || 1); }
        c += span;
      });
      below = below.map(function (n) { return n > 0 ? n - 1 : 0; });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.data"), label);
})();
