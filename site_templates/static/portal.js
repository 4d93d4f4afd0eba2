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
  function ago(iso) {
    var then = Date.parse(iso || "");
    if (isNaN(then)) return "";
    var minutes = Math.max(0, (Date.now() - then) / 60000), hours = minutes / 60;
    if (minutes < 1) return "just now";
    if (minutes < 2) return "1 minute ago";
    if (minutes < 60) return Math.floor(minutes) + " minutes ago";
    return (hours < 2 ? "1 hour" : hours < 48 ? Math.floor(hours) + " hours" : Math.floor(hours / 24) + " days") + " ago";
  }
  Array.prototype.forEach.call(document.querySelectorAll("time[data-age]"), function (t) {
    var age = ago(t.getAttribute("datetime"));
    if (!age) return;
    t.title = t.textContent;
    t.textContent = t.textContent + " (" + age + ")";
  });

  // Activity: the snapshot's facts. Pages hold only facts and when they last changed;
  // when each source last answered is one shared file (activity/sources.js), so a
  // refresh that learnt nothing new rewrites no page. Both are scripts (they load from
  // disk too), and untrusted text goes in with textContent only.
  var runs = null, summary = null;
  var activityCard = document.querySelector("[data-activity-src]");
  function sourceAge(name) {
    var run = runs && runs[name];
    return run && !run.error ? ago(run.at) : "";
  }
  function drawCard() {
    if (!activityCard || !summary) return;
    var list = activityCard.querySelector("[data-activity-items]");
    list.textContent = "";
    (summary.items || []).forEach(function (item) {
      var li = el("li", null, { "class": "state-" + (item.state || "none") });
      var url = String(item.url || "");
      li.appendChild(/^https?:\/\//i.test(url) ? el("a", item.text, { href: url, rel: "noopener noreferrer" }) : el("span", item.text));
      var when = item.at ? ago(item.at) : sourceAge(item.sourceName);
      li.appendChild(el("span", " · " + item.source + (when ? ", as of " + when : "") + (item.stale ? " (not renewed: " + item.stale + ")" : ""), { "class": "hint" }));
      list.appendChild(li);
    });
    activityCard.hidden = !(summary.items || []).length;
  }
  window.backlotActivity = function (data) { summary = data; drawCard(); };
  window.backlotSources = function (data) {
    runs = data.runs || {};
    Array.prototype.forEach.call(document.querySelectorAll("[data-checked]"), function (span) {
      var age = sourceAge(span.getAttribute("data-checked"));
      if (age) span.textContent = " · as of " + age;
    });
    var refreshed = document.querySelector("[data-refreshed]");
    var age = ago(data.generatedAt);
    if (refreshed && age) refreshed.textContent = "the sources last answered " + age;
    drawCard();
  };
  function loadScript(src) {
    var script = document.createElement("script");
    script.src = src;
    document.head.appendChild(script);
  }
  var sourcesAt = document.querySelector("[data-activity-sources]");
  if (sourcesAt) loadScript(sourcesAt.getAttribute("data-activity-sources"));
  if (activityCard) loadScript(activityCard.getAttribute("data-activity-src"));

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

  // "My teams": owners a reader adopts on a Group's or User's page; the catalog's
  // "Owned by my teams" shows what they own (Backstage's "Owned" filter), in this browser.
  var TEAMS_KEY = "backlot.myteams";
  function myTeams() {
    try { var v = JSON.parse(localStorage.getItem(TEAMS_KEY) || "[]"); return Array.isArray(v) ? v : []; } catch (e) { return []; }
  }
  var teamButton = document.querySelector("[data-my-team]");
  if (article && teamButton) {
    var teamKey = article.getAttribute("data-entity");
    var adopts = (teamButton.getAttribute("data-groups") || teamKey).split(" ").filter(Boolean);
    var label = teamButton.textContent;
    var syncTeam = function () {
      var on = myTeams().indexOf(teamKey) >= 0;
      teamButton.setAttribute("aria-pressed", on ? "true" : "false");
      teamButton.textContent = (on ? "✓ " : "") + label;
    };
    teamButton.hidden = false;
    syncTeam();
    teamButton.addEventListener("click", function () {
      var teams = myTeams().filter(function (k) { return adopts.indexOf(k) < 0; });
      if (teamButton.getAttribute("aria-pressed") !== "true") teams = teams.concat(adopts);
      try { localStorage.setItem(TEAMS_KEY, JSON.stringify(teams)); } catch (e) { /* private mode */ }
      syncTeam();
    });
  }

  // Sortable columns on every entity table drawn by the build.
  function sortable(table, onSort) {
    Array.prototype.forEach.call(table.querySelectorAll("thead th"), function (th, index) {
      var button = el("button", th.textContent, { type: "button", "class": "sort" });
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") === "ascending";
        table.querySelectorAll("thead th").forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        onSort(index, descending);
      });
    });
  }
  function sortRowsInPlace(table) {
    sortable(table, function (index, descending) {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = (a.cells[index] || {}).textContent || "", y = (b.cells[index] || {}).textContent || "";
        var c = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
        return descending ? -c : c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  }

  // Graphs are files of their own beside their page (site/_graph_files.py); the page
  // shows a picture of each. The SVG itself takes the picture's place, so its links,
  // tooltips and the page's colours work. It is the portal's own file, from the same
  // folder; from disk, where it cannot be fetched, the picture stays (and opens the file).
  var fetchable = window.location.protocol !== "file:";
  Array.prototype.forEach.call(fetchable ? document.querySelectorAll("a[data-graph]") : [], function (link) {
    fetch(link.href).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    }).then(function (text) {
      var parsed = new DOMParser().parseFromString(text, "image/svg+xml");
      var svg = parsed.documentElement;
      if (!svg || svg.namespaceURI !== "http://www.w3.org/2000/svg" || svg.localName !== "svg") return;
      svg = document.importNode(svg, true);
      link.parentNode.replaceChild(svg, link);
      var view = svg.closest("[data-graph-viewport]");
      if (view) graphTools(view, svg);
    }).catch(function () { /* the picture stays */ });
  });

  // Pan and zoom on a full-size graph: drag with a mouse or pen (touch scrolls natively),
  // buttons to zoom, fit and go back to the actual size.
  function graphTools(view, svg) {
    var natural = parseFloat(svg.getAttribute("width")) || svg.getBoundingClientRect().width;
    var scale = 1;
    function zoom(to) {
      scale = Math.min(4, Math.max(0.1, to));
      svg.setAttribute("width", String(Math.round(natural * scale)));
    }
    var tools = view.parentNode.querySelector("[data-graph-tools]");
    if (tools) {
      tools.hidden = false;
      tools.addEventListener("click", function (e) {
        var what = e.target.getAttribute && e.target.getAttribute("data-zoom");
        if (what === "in") zoom(scale * 1.25);
        else if (what === "out") zoom(scale / 1.25);
        else if (what === "fit") {
          var height = parseFloat((svg.getAttribute("viewBox") || "").split(" ")[3]) || natural;
          zoom(Math.min((view.clientWidth - 16) / natural, (view.clientHeight - 16) / height));
        }
        else if (what === "reset") zoom(1);
      });
    }
    var drag = null;
    view.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "touch" || e.button !== 0 || e.target.closest("a")) return;
      drag = { x: e.clientX, y: e.clientY, left: view.scrollLeft, top: view.scrollTop };
      view.classList.add("dragging");
      view.setPointerCapture(e.pointerId);
    });
    view.addEventListener("pointermove", function (e) {
      if (!drag) return;
      view.scrollLeft = drag.left - (e.clientX - drag.x);
      view.scrollTop = drag.top - (e.clientY - drag.y);
    });
    function stop() { drag = null; view.classList.remove("dragging"); }
    view.addEventListener("pointerup", stop);
    view.addEventListener("pointercancel", stop);
  }

  // The catalog filter: loads row shards on first use, filters and counts in the page.
  // Its state lives in the URL (shareable, and the same after Back or a reload); a kind's
  // own page filters within its kind, and choosing another kind goes to that kind's page,
  // so the tabs and the select always agree.
  var form = document.querySelector("[data-catalog]");
  Array.prototype.forEach.call(document.querySelectorAll("table.entities"), function (table) {
    if (!form || !table.closest("[data-static-list]")) sortRowsInPlace(table);
  });
  if (!form) return;
  form.hidden = false;
  var shards = parseInt(form.getAttribute("data-shards"), 10) || 0;
  var dataPath = root + "catalog/_data/";
  var staticList = document.querySelector("[data-static-list]");
  var currentKind = staticList ? staticList.getAttribute("data-current-kind") || "" : "";
  var results = document.querySelector("[data-results]");
  var status = form.querySelector("[data-status]");
  var kindLinks = {};
  Array.prototype.forEach.call(document.querySelectorAll("nav.kinds a[data-kind]"), function (a) {
    kindLinks[a.getAttribute("data-kind")] = a.getAttribute("href");
  });
  var rows = [], loaded = 0, loading = false, shown = 100, descending = false;
  var FIELDS = { kind: 1, namespace: 2, type: 4, owner: 5, lifecycle: 6, system: 7 };
  var SORTS = { name: 3, kind: 1, type: 4, owner: 5, lifecycle: 6, description: 9 };
  var COLUMNS = ["name", "kind", "type", "owner", "lifecycle", "description"];
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
    var c = { q: form.elements.q.value.trim().toLowerCase(), facets: {}, show: form.elements.show.value };
    form.querySelectorAll("[data-facet]").forEach(function (s) {
      if (s.value) c.facets[s.getAttribute("data-facet")] = s.value;
    });
    if (currentKind) c.facets.kind = currentKind;
    if (c.show === "owned") c.keys = myTeams();
    if (c.show === "starred") c.keys = starred().map(function (s) { return s.key; });
    return c;
  }
  function matches(row, c, skip) {
    for (var f in c.facets) {
      if (f !== skip && values(row, f).indexOf(c.facets[f]) < 0) return false;
    }
    if (c.show === "owned" && c.keys.indexOf(row[12]) < 0) return false;
    if (c.show === "starred" && c.keys.indexOf(row[13]) < 0) return false;
    if (c.q) {
      var hay = (row[3] + " " + row[10] + " " + row[9] + " " + row[5] + " " + row[8].join(" ")).toLowerCase();
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
        // A value nothing left has is no choice; other kinds stay, to go to their pages.
        option.hidden = facet !== "kind" && n === 0 && option.value !== select.value;
      });
    });
  }
  function sortKey(row, by) {
    var k = by === "name" ? "" : row[SORTS[by] || 3] || "";
    // Rows without the value (no owner, no lifecycle) come after those with one.
    return (by === "name" ? "" : k ? "0" : "1") + (k + "\u0000" + row[3]).toLowerCase();
  }
  function active(c) {
    return !!(c.q || c.show || Object.keys(c.facets).some(function (f) { return f !== "kind" || !currentKind; }) ||
      form.elements.sort.value !== "name" || descending);
  }
  function apply() {
    var c = criteria();
    if (!active(c)) { showStatic(); return; }
    if (loaded < shards) { load(); return; }
    var by = form.elements.sort.value;
    var found = rows.filter(function (row) { return matches(row, c, null); });
    found.sort(function (a, b) { var x = sortKey(a, by), y = sortKey(b, by); var r = x < y ? -1 : x > y ? 1 : 0; return descending ? -r : r; });
    recount(c);
    render(found, c);
  }
  var clear = form.querySelector("[data-clear]");
  function showStatic() {
    staticList.hidden = false;
    results.hidden = true;
    status.textContent = "";
    clear.hidden = true;
  }
  function cell(text, href) {
    var td = el("td");
    if (href) td.appendChild(el("a", text, { href: root + href })); else td.textContent = text;
    return td;
  }
  function render(found, c) {
    staticList.hidden = true;
    results.hidden = false;
    results.textContent = "";
    var total = rows.filter(function (r) { return !currentKind || r[1] === currentKind; }).length;
    var noun = total === 1 ? " entity" : " entities";
    status.textContent = found.length + " of " + total + (currentKind ? " " + currentKind : "") + noun + (found.length === 1 ? " matches" : " match");
    if (c.show === "owned" && !c.keys.length) {
      status.textContent = "No teams chosen yet: press “My team” on your group's page (or “This is me” on yours), then come back.";
    }
    clear.hidden = false;
    clear.setAttribute("href", window.location.pathname);
    if (!found.length) {
      results.appendChild(el("p", c.show === "starred" && !c.keys.length
        ? "Nothing starred yet: star entities with the ☆ Star button on their pages."
        : "No entity matches these filters.", { "class": "empty" }));
      return;
    }
    var wrap = el("div", null, { "class": "table-wrap" });
    var table = el("table", null, { "class": "entities" });
    var head = el("tr");
    ["Name", "Kind", "Type", "Owner", "Lifecycle", "Description"].forEach(function (h, i) {
      var th = el("th", h, i === 5 ? { scope: "col", "class": "wide" } : { scope: "col" });
      if (COLUMNS[i] === form.elements.sort.value) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      head.appendChild(th);
    });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var body = el("tbody");
    found.slice(0, shown).forEach(function (row) {
      var tr = el("tr");
      var name = cell(row[3], row[0]);
      if (row[2] !== "default") { name.appendChild(document.createTextNode(" ")); name.appendChild(el("span", row[2], { "class": "ns" })); }
      tr.appendChild(name);
      tr.appendChild(cell(row[1]));
      tr.appendChild(cell(row[4]));
      tr.appendChild(cell(row[5], row[11]));
      tr.appendChild(cell(row[6]));
      var description = cell(row[9]);
      description.className = "wide";
      tr.appendChild(description);
      body.appendChild(tr);
    });
    table.appendChild(body); wrap.appendChild(table); results.appendChild(wrap);
    sortable(table, sortBy);
    table.querySelectorAll("thead th").forEach(function (th, i) {
      if (COLUMNS[i] === form.elements.sort.value) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    });
    if (found.length > shown) {
      var more = el("button", "Show more (" + (found.length - shown) + " left)", { type: "button", "class": "more" });
      more.addEventListener("click", function () { shown += 100; render(found, c); });
      results.appendChild(more);
    }
  }
  function sortBy(index, desc) {
    form.elements.sort.value = COLUMNS[index];
    descending = desc;
    update();
  }
  Array.prototype.forEach.call(staticList.querySelectorAll("table.entities"), function (table) {
    sortable(table, sortBy);
  });

  // The URL: ?q=…&owner=…&sort=…&dir=desc; the kind is the page's own.
  function query() {
    var params = new URLSearchParams();
    if (form.elements.q.value.trim()) params.set("q", form.elements.q.value.trim());
    form.querySelectorAll("[data-facet]").forEach(function (s) {
      if (s.value && s.getAttribute("data-facet") !== "kind") params.set(s.getAttribute("data-facet"), s.value);
    });
    if (form.elements.show.value) params.set("show", form.elements.show.value);
    if (form.elements.sort.value !== "name") params.set("sort", form.elements.sort.value);
    if (descending) params.set("dir", "desc");
    var text = params.toString();
    return text ? "?" + text : "";
  }
  function choose(select, value) {
    var found = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    select.value = found ? value : "";
  }
  function fromUrl() {
    var params = new URLSearchParams(window.location.search);
    var kind = params.get("kind");
    if (kind !== null && kind !== currentKind && kindLinks[kind] !== undefined) {
      params.delete("kind");
      var rest = params.toString();
      window.location.replace(kindLinks[kind] + (rest ? "?" + rest : "") + window.location.hash);
      return false;
    }
    form.elements.q.value = params.get("q") || "";
    form.querySelectorAll("[data-facet]").forEach(function (s) {
      choose(s, s.getAttribute("data-facet") === "kind" ? currentKind : params.get(s.getAttribute("data-facet")) || "");
    });
    choose(form.elements.show, params.get("show") || "");
    choose(form.elements.sort, params.get("sort") || "name");
    descending = params.get("dir") === "desc";
    return true;
  }
  function syncLinks() {
    var rest = query();
    Object.keys(kindLinks).forEach(function (kind) {
      var a = document.querySelector('nav.kinds a[data-kind="' + (window.CSS && CSS.escape ? CSS.escape(kind) : kind) + '"]');
      if (a) a.setAttribute("href", kindLinks[kind] + rest);
    });
  }
  // "change" also fires when the search box loses focus (say, on a click on a result):
  // re-rendering then would swallow the click, so only a new query re-renders.
  var last = null, leaving = false;
  function update() {
    var kindSelect = form.querySelector('[data-facet="kind"]');
    if (leaving) return;
    if (kindSelect && kindSelect.value !== currentKind && kindLinks[kindSelect.value] !== undefined) {
      leaving = true;  // "input" and "change" both fire for one choice: go once
      window.location.assign(kindLinks[kindSelect.value] + query());
      return;
    }
    var now = JSON.stringify([criteria(), form.elements.sort.value, descending]);
    if (now === last && (loaded === shards || !active(criteria()))) return;
    last = now;
    shown = 100;
    var url = window.location.pathname + query() + window.location.hash;
    try { window.history.replaceState(null, "", url); } catch (e) { /* file:// in some browsers */ }
    syncLinks();
    apply();
  }
  function restore() {
    if (!fromUrl()) return;
    last = null;
    syncLinks();
    update();
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); update(); });
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  window.addEventListener("popstate", restore);
  // Back and Forward may show this page from the browser's cache, with the form as it was
  // left; the URL says what it shows.
  window.addEventListener("pageshow", function (e) { if (e.persisted) { leaving = false; restore(); } });
  restore();
})();
