// The inventory page: while a run is under way, poll its status and move the progress bar; reload when it ends.
(function () {
  "use strict";
  var box = document.querySelector("#inventory-job[data-status-url]");
  if (!box || box.dataset.state !== "running") { return; }
  var bar = box.querySelector("progress");
  var done = box.querySelector(".inventory-done");
  var total = box.querySelector(".inventory-total");

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        if (!s.running) { window.location.reload(); return; }
        if (bar) { bar.max = s.total || 1; bar.value = s.done; }
        if (done) { done.textContent = s.done; }
        if (total) { total.textContent = s.total; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
}());
