// The dossier page's "Possibly related complaints" panel (web/ui/related.py): fetched by its own
// request, so the lookup (a logged search) does not slow the page; without script the panel's link
// opens the same list as a page. The Content-Security-Policy keeps all script in files like this one.
// The section is aria-live="polite" (dossier.html): aria-busy is set while the list loads, so a
// screen reader announces the list once, when it has arrived.
(function () {
  "use strict";
  var panel = document.querySelector("section.related[data-src]");
  if (!panel || !window.fetch) { return; }
  var body = panel.querySelector(".related-body");
  panel.setAttribute("aria-busy", "true");
  fetch(panel.getAttribute("data-src"), {credentials: "same-origin", headers: {"Accept": "text/html"}})
    .then(function (resp) { return resp.ok ? resp.text() : Promise.reject(resp.status); })
    .then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var list = doc.querySelector(".related-panel");
      if (list) { body.replaceChildren(document.importNode(list, true)); }
    })
    .catch(function () { /* keep the link: the page shows the list */ })
    .then(function () { panel.setAttribute("aria-busy", "false"); });
})();
