// Backlot: Material's palette start-up (partials/javascripts/palette.html) as a file, so that
// docs pages need no inline script under their Content-Security-Policy. The portal's docs
// follow the system's light or dark setting (Material's "(prefers-color-scheme)" entry,
// no toggle): the scheme whose media query matches is set before the page is drawn, so a
// dark system never sees the light scheme first. Material's bundle keeps it in step later.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("[data-md-component=palette] [data-md-color-media]");
  // Without a toggle the only palette worth keeping is "follow the system": anything else
  // Material stored (from an older build) would pin one scheme whatever the setting says.
  var stored = window.__md_get("__palette");
  if (stored && !(stored.color && stored.color.media === "(prefers-color-scheme)")) {
    try {
      localStorage.removeItem(window.__md_scope.pathname + ".__palette");
    } catch (error) {
      // No storage: nothing was kept.
    }
  }
  var keys = ["scheme", "primary", "accent"];
  for (var i = 0; i < inputs.length; i++) {
    var media = inputs[i].getAttribute("data-md-color-media");
    if (media !== "(prefers-color-scheme)" && matchMedia(media).matches) {
      for (var k = 0; k < keys.length; k++) {
        var value = inputs[i].getAttribute("data-md-color-" + keys[k]);
        if (value) document.body.setAttribute("data-md-color-" + keys[k], value);
      }
      return;
    }
  }
})();
