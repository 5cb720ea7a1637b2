// The upload page: a progress bar while the bytes travel (issue #11 item 5), then each file's status,
// polled until every file is filed, refused or failed. Without script the form posts as usual and the
// page's Refresh link shows the status; the Content-Security-Policy keeps all script in this file.
(function () {
  "use strict";

  // ---- 1. progress while uploading: the same POST, sent by XMLHttpRequest to watch its bytes go
  var form = document.querySelector("form.upload-form");
  var bar = form && form.querySelector(".upload-progress");
  if (form && bar && window.XMLHttpRequest && window.FormData && window.DOMParser) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var progress = bar.querySelector("progress");
      var out = bar.querySelector(".upload-percent");
      var button = form.querySelector("button[type=submit]");
      var xhr = new XMLHttpRequest();
      bar.hidden = false;
      button.disabled = true;
      progress.value = 0;
      out.textContent = "0%";
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { progress.removeAttribute("value"); return; }
        var pct = Math.round(100 * e.loaded / e.total);
        progress.value = pct;
        out.textContent = pct + "%";
      });
      xhr.addEventListener("load", function () {
        // The answer is the page with one status row per file: go to its own refresh address (a GET),
        // so that reloading the page never sends the files again.
        var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var refresh = page.querySelector("a.upload-refresh");
        if (xhr.status < 400 && refresh) { window.location.assign(refresh.getAttribute("href")); return; }
        failed();
      });
      xhr.addEventListener("error", failed);
      xhr.addEventListener("abort", failed);
      xhr.send(new FormData(form));

      function failed() {
        button.disabled = false;
        progress.value = 0;
        out.textContent = bar.dataset.failed || "";
      }
    });
  }

  // ---- 2. each file's status
  var table = document.querySelector("table.intake[data-status-url]");
  if (!table) { return; }
  var delay = 700;

  function cell(row, name) { return row.querySelector("td.col-" + name); }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function badge(cls, text) {
    var span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    return span;
  }

  // A filed row gets the page's withdraw form (cloned from its <template>: the CSRF token comes with it).
  function withdraw(row, job) {
    var td = cell(row, "withdraw");
    var tpl = document.getElementById("withdraw-form");
    if (job.withdrawn) { td.replaceChildren(badge("withdrawn-reason", job.withdrawn_label)); return; }
    if (!job.withdraw_url || !tpl || td.querySelector("form")) { return; }
    var formCopy = tpl.content.firstElementChild.cloneNode(true);
    formCopy.setAttribute("action", job.withdraw_url);
    formCopy.querySelector("input[name=item]").value = job.item_number;
    td.replaceChildren(formCopy);
  }

  function show(job) {
    var row = table.querySelector('tr[data-job="' + job.job + '"]');
    if (!row) { return; }
    row.dataset.state = job.state;
    cell(row, "state").replaceChildren(badge(job.state_class, job.state_label));
    cell(row, "kind").textContent = job.kind_label || "—";
    cell(row, "outcome").replaceChildren(job.outcome ? badge("outcome outcome-" + job.outcome, job.outcome_label) : "");
    cell(row, "ocr").textContent = job.ocr_confidence === null ? "—" : String(job.ocr_confidence);
    cell(row, "item").replaceChildren(job.item_url ? link(job.item_url, job.item_number) : "—");
    cell(row, "message").textContent = job.message;
    withdraw(row, job);
    if (job.finished && job.children.length && !row.dataset.children) {
      row.dataset.children = "1";
      var after = row;
      job.children.forEach(function (c) {
        var tr = document.createElement("tr");
        tr.className = "child";
        [ "↳ " + c.path, "", "", "", "", "", c.message, "" ].forEach(function (t) { var td = document.createElement("td"); td.textContent = t; tr.appendChild(td); });
        tr.children[3].replaceChildren(badge("outcome outcome-" + c.outcome, c.outcome_label));
        if (c.item_number) { tr.children[5].replaceChildren(link(c.item_url || "#", c.item_number)); }
        after.after(tr);
        after = tr;
      });
    }
  }

  function poll() {
    fetch(table.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (resp) { if (!resp.ok) { throw new Error(resp.status); } return resp.json(); })
      .then(function (body) {
        body.jobs.forEach(show);
        var done = body.jobs.every(function (j) { return j.finished; });
        table.dataset.done = done ? "1" : "";
        if (!done) { delay = Math.min(delay * 1.3, 5000); setTimeout(poll, delay); }
      })
      .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(poll, delay); });
  }

  if (table.querySelector('tr[data-job]:not([data-state="filed"]):not([data-state="refused"]):not([data-state="failed"])')) {
    setTimeout(poll, delay);
  } else {
    table.dataset.done = "1";
  }
}());
