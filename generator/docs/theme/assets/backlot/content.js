// Backlot: Material's inline script after a page's content (partials/javascripts/content.html)
// as a file: with linked tabs, open the tabs the reader chose before; and open the tab
// that the URL's hash names.
(function () {
  "use strict";
  var script = document.currentScript;
  if (script && script.hasAttribute("data-tabs-link")) {
    var tabs = window.__md_get("__tabs");
    if (Array.isArray(tabs)) {
      document.querySelectorAll(".tabbed-set").forEach(function (set) {
        var labels = set.querySelector(".tabbed-labels");
        if (!labels) return;
        for (var i = 0; i < tabs.length; i++) {
          var found = Array.prototype.find.call(labels.getElementsByTagName("label"), function (label) {
            return label.innerText.trim() === tabs[i];
          });
          if (found) {
            var input = document.getElementById(found.htmlFor);
            if (input) input.checked = true;
            return;
          }
        }
      });
    }
  }
  var target = document.getElementById(location.hash.slice(1));
  if (target && target.name) target.checked = target.name.startsWith("__tabbed_");
})();
