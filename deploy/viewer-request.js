// CloudFront Function (viewer request, runtime cloudfront-js-2.0) in front of the portal's
// private bucket (REST origin with Origin Access Control, which has no index documents).
// ${PortalPrefix} and ${DocsPrefix} are filled in by the CloudFormation template (Fn::Sub);
// tests/test_deploy.py runs this file in node with test values.
//   /path/          → <portal prefix>path/index.html
//   /path           → 301 to /path/ (relative links in pages need the slash)
//   /docs/ns/k/n/…  → <TechDocs prefix>ns/k/n/… (one copy of each docs site)
//   /_backlot/…     → 404 (the publish manifest is not for readers)
var PORTAL_PREFIX = "${PortalPrefix}";
var DOCS_PREFIX = "${DocsPrefix}";

function query(qs) {
  var parts = [];
  for (var name in qs) {
    var entry = qs[name];
    var values = entry.multiValue ? entry.multiValue : [entry];
    for (var i = 0; i < values.length; i++) {
      parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(values[i].value));
    }
  }
  return parts.length ? "?" + parts.join("&") : "";
}

function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.indexOf("/_backlot/") === 0 || uri === "/_backlot") {
    return { statusCode: 404, statusDescription: "Not Found" };
  }
  var last = uri.substring(uri.lastIndexOf("/") + 1);
  if (last !== "" && last.indexOf(".") === -1) {
    return {
      statusCode: 301,
      statusDescription: "Moved Permanently",
      headers: { location: { value: uri + "/" + query(request.querystring || {}) } },
    };
  }
  if (uri.charAt(uri.length - 1) === "/") {
    uri += "index.html";
  }
  if (uri.indexOf("/docs/") === 0) {
    request.uri = "/" + DOCS_PREFIX + uri.substring("/docs/".length);
  } else {
    request.uri = "/" + PORTAL_PREFIX + uri.substring(1);
  }
  return request;
}
