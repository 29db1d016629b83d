// Live progress of a scenario's solve job: polls the JSON status endpoint while the job is active.
(function () {
  "use strict";

  var POLL_MS = 1500;

  function yen(value) {
    return Number(value).toLocaleString("ja-JP") + "円";
  }

  function setText(panel, field, text) {
    var el = panel.querySelector('[data-field="' + field + '"]');
    if (el) { el.textContent = text; }
  }

  function render(panel, s) {
    setText(panel, "status_label", s.status_label || s.status);
    setText(panel, "phase_label", s.phase_label || "—");
    // The bar and the count follow the current phase (sub-problems while solving, groups while settling).
    setText(panel, "step_unit", s.step_unit || "部分問題");
    setText(panel, "step_done", s.step_done == null ? "—" : s.step_done);
    setText(panel, "step_total", s.step_total == null ? "—" : s.step_total);
    setText(panel, "incumbent_yen", s.incumbent_yen == null ? "—" : yen(s.incumbent_yen));
    setText(panel, "bound_yen", s.bound_yen == null ? "—" : yen(s.bound_yen));
    setText(panel, "gap", s.gap == null ? "—" : (s.gap * 100).toFixed(3) + "%");
    setText(panel, "elapsed", s.elapsed == null ? "—" : Number(s.elapsed).toFixed(1) + " 秒");
    var bar = panel.querySelector('[data-field="progress"]');
    if (bar) {
      bar.max = s.step_total || 1;
      bar.value = s.step_done || 0;
    }
    var log = panel.querySelector('[data-field="log"]');
    if (log && s.log_tail && s.log_tail.length) { log.textContent = s.log_tail.join("\n"); }
    panel.className = panel.className.replace(/status-\w+/, "status-" + s.status);
  }

  function poll(panel) {
    var url = panel.getAttribute("data-status-url");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        render(panel, s);
        if (s.active) {
          window.setTimeout(function () { poll(panel); }, POLL_MS);
        } else {
          // Finished: reload so the page shows the plan link, the log and the buttons for the new state.
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(function () { poll(panel); }, POLL_MS * 4); });
  }

  function confirmForms() {
    var forms = document.querySelectorAll("form[data-confirm]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    confirmForms();
    var panel = document.getElementById("job");
    if (panel && panel.getAttribute("data-active") === "true") { poll(panel); }
  });
}());
