// MLflow's UI links are hash URLs (/#/models/m/versions/1); the fragment never reaches the
// server, so the home page maps it onto the same path without the '#'.
(function () {
  "use strict";
  var h = window.location.hash;
  if (h.indexOf("#/") !== 0) return;
  var path = h.slice(1);
  if (!/^\/(experiments|models|compare-runs|compare-model-versions|metric)(\/|\?|$)/.test(path)) return;
  // MLflow's experiment links may end in "/s" (its search view) or "/runs" alone.
  path = path.replace(/^(\/experiments\/[^/?]+)\/(s|runs)(?=\?|$)/, "$1");
  var note = document.getElementById("hash-redirect");
  if (note) note.hidden = false;
  window.location.replace(path);
})();
