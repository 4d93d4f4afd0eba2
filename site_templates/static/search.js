// Backlot search: one box on every portal and docs page, over entity pages and docs pages,
// with Pagefind's index (pagefind/ at the portal's root), loaded only when the reader starts
// to search. Without script, or from disk (file://, where Pagefind cannot fetch its index),
// the box is a form that opens the catalog filtered by the words typed.
// Untrusted text is only ever set with textContent; Pagefind's excerpts are parsed and
// rebuilt from their text and <mark> elements only.
"use strict";
(function () {
  var form = document.querySelector("form[data-search]");
  if (!form) return;
  var box = form.querySelector("input[name=q]");
  var root = form.getAttribute("data-root") || "";
  var panel = document.createElement("div");
  panel.className = "search-results";
  panel.setAttribute("data-search-results", "");
  panel.hidden = true;
  form.appendChild(panel);
  var SECTIONS = ["Catalog", "Docs"];
  var FILTERS = ["section", "kind", "owner", "lifecycle"];
  // Ten results at first: each is a fragment to fetch, and the first query at scale must
  // stay small. "Show more" fetches the next ten.
  var STEP = 10;
  var pagefind = null, loading = null, chosen = {}, timer = null, asked = 0, filtering = false, wanted = STEP;

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function excerpt(html) {
    // Pagefind marks the words found; keep the text and the marks, nothing else.
    var out = el("p", null, { "class": "excerpt" });
    var doc = new DOMParser().parseFromString("<p>" + html + "</p>", "text/html");
    doc.body.firstChild.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") out.appendChild(el("mark", node.textContent));
      else out.appendChild(document.createTextNode(node.textContent));
    });
    return out;
  }
  function load() {
    if (loading) return loading;
    if (window.location.protocol === "file:") {
      loading = Promise.reject(new Error("file"));
    } else {
      loading = import(new URL(root + "pagefind/pagefind.js", document.baseURI).href).then(function (module) {
        pagefind = module;
        // Pagefind's URLs start at the portal's root: wherever the portal is published.
        var base = new URL(root || "./", document.baseURI).pathname;
        // An exact name ranks above the longer names it begins ("orders" before
        // "orders-client"): Pagefind's default favours exact words too little for names.
        var ranking = { termSimilarity: 5 };
        // The filters' index is loaded when the reader asks for filters, not before: at
        // 10,000 entities it is a third of what a first query would fetch.
        var options = { baseUrl: base, excerptLength: 24, ranking: ranking };
        // A large portal's index is in parts (pagefind/parts.json names the others), each
        // built on its own; they are searched as one.
        var parts = fetch(new URL(root + "pagefind/parts.json", document.baseURI).href)
          .then(function (response) { return response.ok ? response.json() : { parts: [] }; })
          .catch(function () { return { parts: [] }; });
        return Promise.all([module.options(options), parts]).then(function (done) {
          var names = Array.isArray(done[1].parts) ? done[1].parts : [];
          return Promise.all(names.filter(function (name) {
            return typeof name === "string" && /^part-[0-9]+\/$/.test(name);
          }).map(function (name) {
            var where = new URL(root + "pagefind/" + name, document.baseURI).href;
            return module.mergeIndex(where, options);
          }));
        });
      });
    }
    loading.catch(function () { /* said in the panel */ });
    return loading;
  }
  function say(text) {
    panel.textContent = "";
    panel.appendChild(el("p", text, { "class": "hint" }));
    panel.hidden = false;
  }
  function filterBar(available) {
    var bar = el("div", null, { "class": "search-filters" });
    FILTERS.forEach(function (name) {
      var values = available[name];
      if (!values || !Object.keys(values).length) return;
      var select = el("select", null, { "aria-label": "Filter by " + name, "data-search-filter": name });
      select.appendChild(el("option", name.charAt(0).toUpperCase() + name.slice(1) + ": all", { value: "" }));
      Object.keys(values).sort().forEach(function (value) {
        var option = el("option", value + " (" + values[value] + ")", { value: value });
        if (chosen[name] === value) option.selected = true;
        select.appendChild(option);
      });
      select.addEventListener("change", function () {
        if (select.value) chosen[name] = select.value; else delete chosen[name];
        run();
      });
      bar.appendChild(select);
    });
    return bar;
  }
  function run() {
    var query = box.value.trim();
    if (!query) { panel.hidden = true; return; }
    var mine = ++asked;
    load().then(function () {
      var filters = {};
      Object.keys(chosen).forEach(function (k) { filters[k] = chosen[k]; });
      return pagefind.search(query, { filters: filters });
    }).then(function (found) {
      if (mine !== asked) return null;
      return Promise.all(found.results.slice(0, wanted).map(function (r) { return r.data(); })).then(function (pages) {
        if (mine !== asked) return;
        show(found, pages);
        panel.setAttribute("data-query", query);  // what the results are for
      });
    }).catch(function (error) {
      if (mine !== asked) return;
      say(error && error.message === "file"
        ? "Search needs the portal served over HTTP (opened from disk, its index cannot be read). Press Enter to filter the catalog instead."
        : "Search is not available here. Press Enter to filter the catalog instead.");
    });
  }
  function show(found, pages) {
    // Docs built twice from one folder (two entities sharing a techdocs-ref) are one hit.
    var seen = {};
    pages = pages.filter(function (p) {
      var key = ((p.meta && p.meta.title) || "") + "\u0000" + ((p.meta && p.meta.site) || "") + "\u0000" + (p.excerpt || "");
      if (seen[key]) return false;
      seen[key] = true;
      return true;
    });
    panel.textContent = "";
    if (filtering) {
      panel.appendChild(filterBar(found.filters || {}));
    } else if (found.results.length) {
      // Searches count filter values once the filters are loaded: load, then search again.
      var opener = el("button", "Filter by section, kind, owner, lifecycle", { type: "button", "class": "search-filter-open", "data-search-filters-open": "" });
      opener.addEventListener("click", function (e) {
        e.stopPropagation();
        opener.disabled = true;
        Promise.resolve(pagefind.filters()).then(function () { filtering = true; run(); });
      });
      var bar = el("div", null, { "class": "search-filters" });
      bar.appendChild(opener);
      panel.appendChild(bar);
    }
    var more = found.results.length > wanted ? " (the first " + wanted + " shown: add a word or a filter)" : "";
    panel.appendChild(el("p", found.results.length + (found.results.length === 1 ? " page" : " pages") + " found" + more, { "class": "hint", role: "status" }));
    // One entry per page (Pagefind's sub-results per heading are folded into it),
    // grouped: entities first, then docs.
    SECTIONS.forEach(function (section) {
      var mine = pages.filter(function (p) { return ((p.filters && p.filters.section) || ["Docs"])[0] === section; });
      if (!mine.length) return;
      panel.appendChild(el("h2", section === "Catalog" ? "In the catalog" : "In the docs"));
      var list = el("ol");
      mine.forEach(function (page) {
        var item = el("li");
        var link = el("a", (page.meta && page.meta.title) || page.url, { href: page.url });
        item.appendChild(link);
        var where = page.meta && (page.meta.kind || page.meta.site);
        if (where) item.appendChild(el("span", " · " + where, { "class": "hint" }));
        item.appendChild(excerpt(page.excerpt || ""));
        list.appendChild(item);
      });
      panel.appendChild(list);
    });
    if (found.results.length > wanted) {
      var next = el("button", "Show more", { type: "button", "class": "search-more", "data-search-more": "" });
      next.addEventListener("click", function (e) {
        e.stopPropagation();
        wanted += STEP;
        run();
      });
      panel.appendChild(next);
    }
    if (!found.results.length) panel.appendChild(el("p", "Nothing found. Press Enter to filter the catalog instead.", { "class": "empty" }));
    panel.hidden = false;
  }
  box.addEventListener("focus", function () { load(); });
  box.addEventListener("input", function () {
    wanted = STEP;
    clearTimeout(timer);
    timer = setTimeout(run, 120);
  });
  form.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { panel.hidden = true; box.blur(); }
  });
  document.addEventListener("click", function (e) {
    if (!form.contains(e.target)) panel.hidden = true;
  });
  // "/" focuses the search box, as in Backstage and Material (not while typing elsewhere).
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    e.preventDefault();
    box.focus();
  });
})();
