// Progress of a document set (ZIP) built in the background: polls the JSON state, then offers the download.
(function () {
  "use strict";

  var POLL_MS = 1000;

  function poll(panel) {
    fetch(panel.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        var bar = panel.querySelector("progress");
        bar.max = s.total || 1;
        bar.value = s.done || 0;
        panel.querySelector('[data-field="done"]').textContent = s.done || 0;
        panel.querySelector('[data-field="total"]').textContent = s.total || "—";
        ["queue_text", "estimate_text"].forEach(function (name) {
          var field = panel.querySelector('[data-field="' + name + '"]');
          if (field) field.textContent = s[name] || "";
        });
        var heading = panel.querySelector("h2");
        if (heading) heading.textContent = s.status === "queued" ? "順番を待っています" : "作成中です";
        if (s.status === "queued" || s.status === "running") {
          window.setTimeout(function () { poll(panel); }, POLL_MS);
        } else {
          window.location.reload();  // done (download link) or failed (the reason and a retry button)
        }
      })
      .catch(function () { window.setTimeout(function () { poll(panel); }, POLL_MS * 4); });
  }

  document.querySelectorAll("[data-bundle-progress]").forEach(function (panel) { poll(panel); });
})();
