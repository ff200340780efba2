// Filters the claims table by category, kind, overall status and text. Plain DOM, no network, and it
// works from file://. The filter state lives in the URL fragment so a filtered view can be shared.
(function () {
  "use strict";
  var table = document.getElementById("matrix");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var texts = rows.map(function (r) { return r.cells[0].textContent.toLowerCase(); });
  var ids = ["f-text", "f-category", "f-kind", "f-verdict"];
  var inputs = ids.map(function (id) { return document.getElementById(id); });
  var count = document.getElementById("f-count");
  var empty = document.getElementById("f-empty");

  function apply() {
    var q = inputs[0].value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var cat = inputs[1].value, kind = inputs[2].value, verdict = inputs[3].value;
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!cat || r.dataset.category === cat) &&
               (!kind || r.dataset.kind === kind) &&
               (!verdict || r.dataset.status === verdict) &&
               q.every(function (w) { return texts[i].indexOf(w) >= 0; });
      r.hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = shown === rows.length ? rows.length + " claims" : shown + " of " + rows.length + " claims";
    empty.hidden = shown !== 0;
    var state = inputs.map(function (el) { return encodeURIComponent(el.value); }).join("/");
    if (history.replaceState) {
      history.replaceState(null, "", state === "///" ? location.pathname : "#f=" + state);
    }
  }

  var m = /^#f=([^/]*)\/([^/]*)\/([^/]*)\/([^/]*)$/.exec(location.hash);
  if (m) {
    inputs.forEach(function (el, i) {
      try { el.value = decodeURIComponent(m[i + 1]); } catch (e) { /* a mangled link */ }
    });
  }
  inputs.forEach(function (el) { el.addEventListener("input", apply); });
  apply();
})();
