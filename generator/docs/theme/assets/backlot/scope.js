// Backlot: Material's start-up script (partials/javascripts/base.html) as a file, so that
// docs pages need no inline script under their Content-Security-Policy. It defines the
// globals Material's bundle reads: where the site's settings are kept, and how.
(function () {
  "use strict";
  var script = document.currentScript;
  var scope = new URL((script && script.getAttribute("data-md-scope")) || ".", location);
  window.__md_scope = scope;
  window.__md_hash = function (text) {
    return Array.from(text).reduce(function (hash, c) {
      return (hash << 5) - hash + c.charCodeAt(0);
    }, 0);
  };
  window.__md_get = function (key, storage, where) {
    try {
      storage = storage || localStorage;
      where = where || window.__md_scope;
      return JSON.parse(storage.getItem(where.pathname + "." + key));
    } catch (error) {
      // No storage (a sandboxed or private page) or a value that is not JSON: none kept.
      return null;
    }
  };
  window.__md_set = function (key, value, storage, where) {
    try {
      storage = storage || localStorage;
      where = where || window.__md_scope;
      storage.setItem(where.pathname + "." + key, JSON.stringify(value));
    } catch (error) {
      // Storage may be full or forbidden: settings are then not remembered.
    }
  };
})();
