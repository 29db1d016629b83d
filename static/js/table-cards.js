// On a phone a wide data table becomes one card per row (app.css, "table.data.stacked"): each cell is labelled with
// its column's heading, so a finance officer reads 実負担 … 120,000円 without scrolling the page sideways.
// Without JavaScript the table keeps its columns and scrolls inside its own box (app.css), never the page.
(function () {
  "use strict";

  var MIN_COLUMNS = 4; // narrower tables fit a phone as they are

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
  function labelRows(labels, section) {
    Array.prototype.forEach.call(section.rows, function (row) {
      var c = 0;
      Array.prototype.forEach.call(row.cells, function (cell, i) {
        var text = labels[c];
        if (i === 0) {
          cell.classList.add("card-title");
        } else if (text && !cell.hasAttribute("data-label") && (cell.colSpan || 1) === 1) {
          cell.setAttribute("data-label", text);
        }
        c += cell.colSpan || 1;
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.data"), label);
})();
