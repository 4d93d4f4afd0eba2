// Backlot portal: progressive enhancement only. Every page works without it.
// Untrusted text is only ever set with textContent, never as HTML.
"use strict";
(function () {
  var root = document.body.getAttribute("data-root") || "";
  var STAR_KEY = "backlot.starred";

  function starred() {
    try { return JSON.parse(localStorage.getItem(STAR_KEY) || "[]"); } catch (e) { return []; }
  }
  function saveStarred(list) {
    try { localStorage.setItem(STAR_KEY, JSON.stringify(list)); } catch (e) { /* private mode */ }
  }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  // Ages: a page is built once and read for days, so "how long ago" is worked out when
  // it is read. The built text (an absolute time) stays in the title.
  Array.prototype.forEach.call(document.querySelectorAll("time[data-age]"), function (t) {
    var then = Date.parse(t.getAttribute("datetime") || "");
    if (isNaN(then)) return;
    var hours = Math.max(0, (Date.now() - then) / 3600000);
    var age = hours < 1 ? "less than an hour" : hours < 2 ? "1 hour" : hours < 48 ? Math.floor(hours) + " hours" : Math.floor(hours / 24) + " days";
    t.title = t.textContent;
    t.textContent = t.textContent + " (" + age + " ago)";
  });

  // Star button on entity pages; starred list on the home page.
  var article = document.querySelector("[data-entity]");
  var starButton = document.querySelector("[data-star]");
  if (article && starButton) {
    var key = article.getAttribute("data-entity");
    var sync = function () {
      var on = starred().some(function (s) { return s.key === key; });
      starButton.setAttribute("aria-pressed", on ? "true" : "false");
      starButton.textContent = on ? "★ Starred" : "☆ Star";
    };
    starButton.hidden = false;
    sync();
    starButton.addEventListener("click", function () {
      var list = starred().filter(function (s) { return s.key !== key; });
      if (starButton.getAttribute("aria-pressed") !== "true") {
        // The page says where it lives (relative to the portal's root): the URL layout
        // is the build's to decide, not rebuilt here from the key.
        list.push({ key: key, title: article.getAttribute("data-title"), href: article.getAttribute("data-href") });
      }
      saveStarred(list);
      sync();
    });
  }
  var starredList = document.querySelector("[data-starred-list]");
  if (starredList) {
    var items = starred();
    if (items.length) document.querySelector("[data-starred-empty]").hidden = true;
    items.forEach(function (s) {
      var li = el("li");
      var href = String(s.href || "");
      if (/^catalog\/[a-z0-9-]+\/[a-z]+\/[^:]+\/index\.html$/.test(href)) {
        li.appendChild(el("a", s.title || s.key, { href: root + href }));
      } else {
        li.textContent = s.key;
      }
      starredList.appendChild(li);
    });
  }

  // The catalog filter: loads row shards on first use, filters and counts in the page.
  var form = document.querySelector("[data-catalog]");
  if (!form) return;
  form.hidden = false;
  var shards = parseInt(form.getAttribute("data-shards"), 10) || 0;
  var dataPath = root + "catalog/_data/";
  var staticList = document.querySelector("[data-static-list]");
  var results = document.querySelector("[data-results]");
  var status = form.querySelector("[data-status]");
  var rows = [], loaded = 0, loading = false, shown = 100;
  var FIELDS = { kind: 1, namespace: 2, type: 4, owner: 5, lifecycle: 6, system: 7 };
  window.backlotRows = function (index, data) {
    rows = rows.concat(data);
    loaded += 1;
    if (loaded === shards) { apply(); }
  };
  function load() {
    if (loading) return;
    loading = true;
    status.textContent = "Loading the catalog…";
    for (var i = 0; i < shards; i++) {
      var script = document.createElement("script");
      script.src = dataPath + "rows-" + i + ".js";
      document.head.appendChild(script);
    }
  }
  function values(row, facet) {
    if (facet === "tag") return row[8];
    var v = row[FIELDS[facet]];
    return v ? [v] : [];
  }
  function criteria() {
    var c = { q: form.elements.q.value.trim().toLowerCase(), facets: {} };
    form.querySelectorAll("[data-facet]").forEach(function (s) {
      if (s.value) c.facets[s.getAttribute("data-facet")] = s.value;
    });
    return c;
  }
  function matches(row, c, skip) {
    for (var f in c.facets) {
      if (f !== skip && values(row, f).indexOf(c.facets[f]) < 0) return false;
    }
    if (c.q) {
      var hay = (row[3] + " " + row[10] + " " + row[9]).toLowerCase();
      if (hay.indexOf(c.q) < 0) return false;
    }
    return true;
  }
  function recount(c) {
    form.querySelectorAll("[data-facet]").forEach(function (select) {
      var facet = select.getAttribute("data-facet");
      var counts = {}, total = 0;
      rows.forEach(function (row) {
        if (!matches(row, c, facet)) return;
        total += 1;
        values(row, facet).forEach(function (v) { counts[v] = (counts[v] || 0) + 1; });
      });
      Array.prototype.forEach.call(select.options, function (option) {
        var n = option.value ? (counts[option.value] || 0) : total;
        option.textContent = (option.value || "All") + " (" + n + ")";
        option.setAttribute("data-count", String(n));
      });
    });
  }
  function sortKey(row, by) {
    var k = by === "kind" ? row[1] : by === "owner" ? row[5] : by === "lifecycle" ? row[6] : "";
    return (k + "\u0000" + row[3]).toLowerCase();
  }
  function apply() {
    if (loaded < shards) { load(); return; }
    var c = criteria();
    var by = form.elements.sort.value;
    var found = rows.filter(function (row) { return matches(row, c, null); });
    found.sort(function (a, b) { var x = sortKey(a, by), y = sortKey(b, by); return x < y ? -1 : x > y ? 1 : 0; });
    recount(c);
    render(found);
  }
  function render(found) {
    staticList.hidden = true;
    results.hidden = false;
    results.textContent = "";
    status.textContent = found.length + " of " + rows.length + " entities match";
    var wrap = el("div", null, { "class": "table-wrap" });
    var table = el("table", null, { "class": "entities" });
    var head = el("tr");
    ["Name", "Kind", "Type", "Owner", "Lifecycle", "Description"].forEach(function (h, i) {
      head.appendChild(el("th", h, i === 5 ? { scope: "col", "class": "wide" } : { scope: "col" }));
    });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var body = el("tbody");
    found.slice(0, shown).forEach(function (row) {
      var tr = el("tr");
      var name = el("td");
      name.appendChild(el("a", row[3], { href: root + row[0] }));
      tr.appendChild(name);
      [row[1], row[4], row[5], row[6]].forEach(function (v) { tr.appendChild(el("td", v)); });
      tr.appendChild(el("td", row[9], { "class": "wide" }));
      body.appendChild(tr);
    });
    table.appendChild(body); wrap.appendChild(table); results.appendChild(wrap);
    if (found.length > shown) {
      var more = el("button", "Show more (" + (found.length - shown) + " left)", { type: "button", "class": "more" });
      more.addEventListener("click", function () { shown += 100; render(found); });
      results.appendChild(more);
    }
  }
  // "change" also fires when the search box loses focus (say, on a click on a result):
  // re-rendering then would swallow the click, so only a new query re-renders.
  var last = null;
  function update() {
    var now = JSON.stringify([criteria(), form.elements.sort.value]);
    if (now === last && loaded === shards) return;
    last = now;
    shown = 100;
    apply();
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); update(); });
  form.addEventListener("input", update);
  form.addEventListener("change", update);
})();
