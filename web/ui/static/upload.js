// The upload page's per-file status: poll the status URL until every file is filed, refused or failed.
(function () {
  "use strict";
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

  function show(job) {
    var row = table.querySelector('tr[data-job="' + job.job + '"]');
    if (!row) { return; }
    row.dataset.state = job.state;
    cell(row, "state").replaceChildren(badge("job-state job-" + job.state, job.state_label));
    cell(row, "outcome").replaceChildren(job.outcome ? badge("outcome outcome-" + job.outcome, job.outcome_label) : "");
    cell(row, "item").replaceChildren(job.item_url ? link(job.item_url, job.item_number) : "—");
    cell(row, "message").textContent = job.message;
    if (job.finished && job.children.length && !row.dataset.children) {
      row.dataset.children = "1";
      var after = row;
      job.children.forEach(function (c) {
        var tr = document.createElement("tr");
        tr.className = "child";
        [ "↳ " + c.path, "", "", "", "" ].forEach(function (t) { var td = document.createElement("td"); td.textContent = t; tr.appendChild(td); });
        tr.children[2].replaceChildren(badge("outcome", c.outcome_label));
        if (c.item_number) { tr.children[3].replaceChildren(link(c.item_url || "#", c.item_number)); }
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
