// The register form's body search, as you type: narrows the options of the "団体" select by prefecture (the code's
// first two digits) and by a part of the name or code. Without JavaScript the same search runs on the server
// through the "団体を絞り込む" button.
(function () {
  "use strict";
  var finder = document.getElementById("body-finder");
  var select = document.getElementById("body_code");
  if (!finder || !select) { return; }
  var query = document.getElementById("finder-q");
  var prefecture = document.getElementById("finder-prefecture");
  var result = document.getElementById("finder-result");
  var all = Array.prototype.map.call(select.options, function (o) { return { value: o.value, label: o.text }; });
  var timer = null;

  function normalise(text) {
    // Full-width letters and digits as half-width, lower case: what NFKC does on the server for these inputs.
    return (text.normalize ? text.normalize("NFKC") : text).toLowerCase().trim();
  }

  function apply() {
    var q = normalise(query.value);
    var pref = prefecture ? prefecture.value : "";
    var current = select.value;
    var matches = all.filter(function (o) {
      return (!pref || o.value.slice(0, 2) === pref) && (!q || normalise(o.label).indexOf(q) !== -1);
    });
    var shown = matches.length ? matches : all;
    while (select.options.length) { select.remove(0); }
    shown.forEach(function (o) {
      var option = new Option(o.label, o.value);
      option.selected = o.value === current;
      select.add(option);
    });
    if (matches.length === 1) { select.value = matches[0].value; }
    select.dispatchEvent(new Event("change", { bubbles: true }));  // the estimate follows the chosen body
    if (!q && !pref) {
      result.textContent = "都道府県や団体名の一部で「団体」の選択肢を絞り込めます。";
    } else if (matches.length) {
      result.textContent = matches.length + " 団体が該当します（「団体」の選択肢を絞り込みました）。";
    } else {
      result.textContent = "該当する団体がありません。すべての団体から選べます。";
    }
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(apply, 150);
  }

  query.addEventListener("input", schedule);
  if (prefecture) { prefecture.addEventListener("change", apply); }
  finder.addEventListener("submit", function (event) {
    event.preventDefault();  // filtered in place; the page (and what was typed below) stays
    apply();
    select.focus();
  });
}());
