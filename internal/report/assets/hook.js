// Runs before anything else on the page: records every script error, failed resource and
// console.error, so the report's own status (and the browser test) can tell a clean render.
(function () {
  "use strict";
  var st = { done: false, errors: [], charts: [] };
  window.__llmscale = st;
  function record(msg) { st.errors.push(String(msg)); }
  window.addEventListener("error", function (e) {
    if (e && e.target && e.target !== window && e.target.tagName) {
      record("resource failed to load: <" + e.target.tagName.toLowerCase() + ">");
      return;
    }
    record((e && e.message) || "script error");
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    record("unhandled rejection: " + (e && e.reason));
  });
  var origError = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, " "));
    return origError.apply(console, arguments);
  };
})();
