// Backlot: Material's palette start-up (partials/javascripts/palette.html) as a file, so that
// docs pages need no inline script under their Content-Security-Policy. The portal's docs
// have a light and a dark scheme and no toggle: the one whose media query matches is shown,
// at once (no flash of the other), and again whenever the system's setting changes.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("[data-md-component=palette] [data-md-color-media]");
  var keys = ["scheme", "primary", "accent"];

  function apply() {
    // Without a toggle there is no reader's choice to keep: what Material stored is only
    // the scheme of an earlier visit, which would win over the system's setting.
    try {
      localStorage.removeItem(window.__md_scope.pathname + ".__palette");
    } catch (error) {
      // No storage (a sandboxed or private page): nothing was kept.
    }
    for (var i = 0; i < inputs.length; i++) {
      if (matchMedia(inputs[i].getAttribute("data-md-color-media")).matches) {
        for (var k = 0; k < keys.length; k++) {
          var value = inputs[i].getAttribute("data-md-color-" + keys[k]);
          if (value) document.body.setAttribute("data-md-color-" + keys[k], value);
        }
        return;
      }
    }
  }

  if (inputs.length) {
    apply();
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", apply);
  }
})();
