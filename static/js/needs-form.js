// The needs form: shows the unit, the population suggestion and the standalone estimate as the user types.
// Without JavaScript the same figures come from the server through the "概算を再計算" button.
(function () {
  "use strict";
  var form = document.getElementById("need-form");
  if (!form) { return; }
  var url = form.getAttribute("data-estimate-url");
  var units = {};
  try { units = JSON.parse(form.getAttribute("data-units") || "{}"); } catch (e) { units = {}; }
  var box = document.getElementById("estimate");
  var unitEl = document.getElementById("volume-unit");
  var suggestionEl = document.getElementById("volume-suggestion");
  var timer = null;
  var seq = 0;

  function field(name) { return form.elements.namedItem(name); }
  function yen(n) { return Number(n).toLocaleString("ja-JP") + "円"; }
  function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }
  function para(cls, text) {
    var p = document.createElement("p");
    if (cls) { p.className = cls; }
    p.textContent = text;
    return p;
  }

  function showSuggestion(value, unit) {
    clear(suggestionEl);
    if (value === null || value === undefined) { return; }
    suggestionEl.appendChild(document.createTextNode("人口からの目安：" + Number(value).toLocaleString("ja-JP") + "（" + unit + "） "));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link-button";
    button.textContent = "この値を入力する";
    button.addEventListener("click", function () {
      field("volume").value = String(value);
      field("volume").focus();
      schedule();
    });
    suggestionEl.appendChild(button);
  }

  // Implausible volumes (against the registered value and the population guide): a warning, never a refusal.
  function showWarnings(warnings) {
    var list = document.getElementById("volume-warnings");
    if (!list) {
      list = document.createElement("ul");
      list.id = "volume-warnings";
      list.className = "warnings volume-warnings";
      list.setAttribute("aria-live", "polite");
      suggestionEl.parentNode.insertBefore(list, suggestionEl);
    }
    clear(list);
    warnings.forEach(function (text) {
      var li = document.createElement("li");
      var badge = document.createElement("span");
      badge.className = "badge badge-warn";
      badge.textContent = "注意";
      li.appendChild(badge);
      li.appendChild(document.createTextNode(" " + text));
      list.appendChild(li);
    });
  }

  function render(data) {
    clear(box);
    if (!data.ok) {
      box.appendChild(para("hint", data.message || "概算できません"));
      return;
    }
    box.appendChild(para("amount", yen(data.total_yen)));
    box.appendChild(para("", data.horizon_years + "年間の合計（初期費用 " + yen(data.initial_yen) + "、年間 " + yen(data.annual_yen) + "）"));
    box.appendChild(para("hint", "単価表 " + data.price_book_version + " による参考値です。共同調達ではこれより安くなる場合があります。"));
  }

  function renderEffect(effect) {
    var el = document.getElementById("effect");
    if (!el) { return; }
    clear(el);
    if (!effect) {
      el.appendChild(para("hint", "団体・分野・利用量を入力すると、総務省資料の事例にもとづく職員の作業時間の削減見込み（幅）を表示します。"));
      return;
    }
    el.appendChild(para("amount effect-headline", effect.headline));
    (effect.lines || []).forEach(function (line) { el.appendChild(para("", line)); });
    if (effect.cases && effect.cases.length) {
      el.appendChild(para("hint", "根拠とした事例："));
      var ul = document.createElement("ul");
      ul.className = "hint cases";
      effect.cases.forEach(function (c) { var li = document.createElement("li"); li.textContent = c; ul.appendChild(li); });
      el.appendChild(ul);
    }
    el.appendChild(para("hint", (effect.caveat || "") + "（導入効果モデル " + (effect.model_version || "") + "）"));
  }

  function update() {
    var body = field("body_code"), category = field("category_id");
    if (!body || !category || !body.value || !category.value) { return; }
    if (unitEl) { unitEl.textContent = units[category.value] || "—"; }
    var params = new URLSearchParams({
      body: body.value, category: category.value,
      volume: field("volume").value || "", year: (field("start_year") || {}).value || "",
      minutes: (field("baseline_minutes_per_unit") || {}).value || "",
      hours: (field("baseline_hours_per_year") || {}).value || "",
      need: form.getAttribute("data-need-id") || ""
    });
    var mine = ++seq;
    fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (mine !== seq) { return; }  // an older answer arriving late must not replace a newer one
        showSuggestion(data.suggestion, data.unit || "");
        showWarnings(data.warnings || []);
        render(data);
        renderEffect(data.ok ? data.effect : null);
      })
      .catch(function () { /* the server-side figure stays; nothing to add */ });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(update, 300);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  update();
})();
