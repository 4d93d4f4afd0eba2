"""Entity neighbourhood graphs as the portal shows them: chosen, laid out, cached, safe."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import pytest

from generator.site import graphs
from generator.site.graphs import Collapsed, Graph, GraphEdge, neighbourhood, render_svgs

SVG = "{http://www.w3.org/2000/svg}"
Relations = dict[str, list[tuple[str, str]]]
Nodes = dict[str, tuple[str, str]]

INVERSE = {
    "ownedBy": "ownerOf",
    "partOf": "hasPart",
    "providesApi": "apiProvidedBy",
    "consumesApi": "apiConsumedBy",
    "dependsOn": "dependencyOf",
    "childOf": "parentOf",
    "hasMember": "memberOf",
}


def catalog(
    entities: dict[str, str], pairs: Iterable[tuple[str, str, str]]
) -> tuple[Relations, Nodes]:
    """(relations, nodes) as catalog.json has them: both directions for existing entities.

    ``entities`` maps a ref to its label; ``pairs`` are (source, forward relation, target).
    A link to a ref that is not an entity stays on the source's side only, as in Backstage.
    """
    nodes = {ref: (KINDS[ref.split(":")[0]], label) for ref, label in entities.items()}
    relations: Relations = {ref: [] for ref in entities}
    for source, relation, target in pairs:
        relations[source].append((relation, target))
        if target in relations:
            relations[target].append((INVERSE[relation], source))
    return relations, nodes


KINDS = {
    "component": "Component",
    "api": "API",
    "resource": "Resource",
    "group": "Group",
    "system": "System",
    "user": "User",
}


def href(ref: str) -> str:
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    return f"../../../{namespace}/{kind}/{name}/"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def node_groups(root: ET.Element) -> dict[str, ET.Element]:
    """Each drawn node's <g>: by the entity ref its <title> starts with, or "+N more" text."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        classes = group.get("class", "").split()
        if "node" in classes:
            title = group.find(f".//{SVG}title")
            assert title is not None and title.text
            key = texts(group)[0] if "collapsed" in classes else title.text.split(" ")[0]
            assert key not in found
            found[key] = group
    return found


def link_targets(root: ET.Element) -> dict[str, str]:
    """Entity ref (the link's <title>) -> href, for every link in the drawing."""
    found = {}
    for link in root.iter(f"{SVG}a"):
        title = link.find(f"{SVG}title")
        assert title is not None and title.text
        found[title.text] = link.attrib["href"]
    return found


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


SHOP_ENTITIES = {
    "component:default/orders": "Orders service",
    "component:default/payments": "payments",
    "api:default/orders-api": "Orders API",
    "resource:default/orders-db": "orders-db",
    "group:default/team-a": "Team A",
    "group:default/eng": "Engineering",
    "system:default/shop": "Shop",
    "user:default/jane": "Jane",
}
SHOP_LINKS = [
    ("component:default/orders", "ownedBy", "group:default/team-a"),
    ("component:default/orders", "partOf", "system:default/shop"),
    ("component:default/orders", "providesApi", "api:default/orders-api"),
    ("component:default/orders", "dependsOn", "resource:default/orders-db"),
    ("component:default/payments", "consumesApi", "api:default/orders-api"),
    ("component:default/payments", "ownedBy", "group:default/team-a"),
    ("api:default/orders-api", "ownedBy", "group:default/team-a"),
    ("group:default/team-a", "childOf", "group:default/eng"),
    ("group:default/team-a", "hasMember", "user:default/jane"),
]


def test_small_neighbourhood_links_every_node_to_its_page_and_labels_relations(
    tmp_path: Path,
) -> None:
    relations, nodes = catalog(SHOP_ENTITIES, SHOP_LINKS)
    graph, collapsed = neighbourhood(relations, nodes, "component:default/orders", href)
    assert collapsed == []

    keys = {node.key for node in graph.nodes}
    # depth 2: the owner's parent and members and the API's consumer are there too
    assert keys == set(SHOP_ENTITIES)
    # each Backstage pair is drawn once, forward: A ownedBy B, never also B ownerOf A;
    # ownership only for the focus (the neighbours' owner edges made a hairball)
    assert {(e.source, e.label, e.target) for e in graph.edges} == {
        link
        for link in SHOP_LINKS
        if link[1] != "ownedBy" or "component:default/orders" in (link[0], link[2])
    }

    root = parse(render_svgs({"orders": graph}, tmp_path)["orders"])
    assert link_targets(root) == {ref: href(ref) for ref in SHOP_ENTITIES}
    edge_labels = {
        text for g in root.iter(f"{SVG}g") if "edge" in g.get("class", "") for text in texts(g)
    }
    assert edge_labels == {"ownedBy", "partOf", "providesApi", "dependsOn", "consumesApi"} | {
        "childOf",
        "hasMember",
    }
    drawn = node_groups(root)
    assert "Orders service" in texts(drawn["component:default/orders"])
    assert drawn["component:default/orders"].get("class") == "node kind-component focus"
    assert drawn["api:default/orders-api"].get("class") == "node kind-api"
    assert graphs.legend(graph) == tuple(
        (kind, f"kind-{kind.lower()}")
        for kind in ("API", "Component", "Group", "Resource", "System", "User")
    )

    # inline-ready, scalable, accessible, readable on a dark page
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label", "").startswith("Relations of Orders service")
    assert root.get("viewBox") and root.get("height") is None
    assert "pt" not in root.get("width", "")
    colours = {e.get(a) for e in root.iter() for a in ("fill", "stroke")} - {None}
    assert not colours & {"black", "white", "#000000", "#ffffff"}
    assert "currentColor" in colours
    for group in root.iter(f"{SVG}g"):
        if "edge" in group.get("class", ""):
            assert {t.get("fill") for t in group.iter(f"{SVG}text")} == {"currentColor"}
        if "node" in group.get("class", ""):  # dark text on a pastel box
            assert {t.get("fill") for t in group.iter(f"{SVG}text")} == {"#1a1a1a"}

    # depth is configurable: depth 1 leaves out the owner's parent and members
    near, _ = neighbourhood(relations, nodes, "component:default/orders", href, depth=1)
    assert {n.key for n in near.nodes} == {
        "component:default/orders",
        "group:default/team-a",
        "system:default/shop",
        "api:default/orders-api",
        "resource:default/orders-db",
    }
    # the card (depth 1) draws the focus's own relations only
    assert all("component:default/orders" in (e.source, e.target) for e in near.edges)


def test_repeated_titles_get_a_subtitle_and_kinds_their_own_shape(tmp_path: Path) -> None:
    """The System "Fulfilment" and the Group "Fulfilment" must not look alike."""
    entities = {
        "component:default/picker": "Picker",
        "system:default/fulfilment": "Fulfilment",
        "group:default/fulfilment": "Fulfilment",
    }
    links = [
        ("component:default/picker", "partOf", "system:default/fulfilment"),
        ("component:default/picker", "ownedBy", "group:default/fulfilment"),
    ]
    relations, nodes = catalog(entities, links)
    graph, _ = neighbourhood(relations, nodes, "component:default/picker", href, depth=1)
    subtitles = {n.key: n.subtitle for n in graph.nodes}
    assert subtitles == {
        "component:default/picker": "",
        "system:default/fulfilment": "System",
        "group:default/fulfilment": "Group",
    }
    drawn = node_groups(parse(render_svgs({"p": graph}, tmp_path)["p"]))
    assert texts(drawn["system:default/fulfilment"]) == ["Fulfilment", "System"]
    assert texts(drawn["group:default/fulfilment"]) == ["Fulfilment", "Group"]
    shapes = {
        key: sorted(child.tag.rpartition("}")[2] for child in group.iter() if child is not group)
        for key, group in drawn.items()
    }
    assert shapes["system:default/fulfilment"] != shapes["group:default/fulfilment"]
    # the legend is drawn from the nodes' own palette
    legend = graphs.legend_svg(["Group", "System"])
    assert graphs.kind_style("Group")[0] in legend and graphs.kind_style("System")[0] in legend


def big_team(count: int) -> tuple[Relations, Nodes]:
    """A group owning ``count`` components and one system."""
    entities = {f"component:default/svc-{i}": f"Service {i}" for i in range(count)}
    entities |= {"group:default/platform": "Platform", "system:default/zeta": "Zeta"}
    return catalog(
        entities,
        [
            (ref, "ownedBy", "group:default/platform")
            for ref in entities
            if not ref.startswith("group")
        ],
    )


def test_a_large_fanout_becomes_one_more_node_and_a_full_list(tmp_path: Path) -> None:
    relations, nodes = big_team(40)
    graph, collapsed = neighbourhood(
        relations, nodes, "group:default/platform", href, depth=1, max_fanout=12
    )
    shown = {n.key for n in graph.nodes if n.kind in ("Component", "System")}
    more = [n for n in graph.nodes if n.collapsed]
    assert len(shown) == 11 and len(more) == 1 and more[0].collapsed == 30
    assert more[0].label == "+30 more" and more[0].href is None
    # the one system is not buried under the forty components; natural order: 2 before 10
    assert {"system:default/zeta", "component:default/svc-2"} <= shown
    assert collapsed == [Collapsed("group:default/platform", "ownerOf", collapsed[0].keys)]
    # nothing is lost: shown + listed is everything the team owns, each once
    assert len(collapsed[0].keys) == 30
    owned = {target for _, target in relations["group:default/platform"]}
    assert len(owned) == 41 and shown | set(collapsed[0].keys) == owned
    # the "+N more" node hangs off the group by the forward relation
    assert any(
        e.source == more[0].key and e.target == "group:default/platform" and e.label == "ownedBy"
        for e in graph.edges
    )

    root = parse(render_svgs({"platform": graph}, tmp_path)["platform"])
    collapsed_groups = [g for g in root.iter(f"{SVG}g") if "collapsed" in g.get("class", "")]
    assert len(collapsed_groups) == 1
    assert texts(collapsed_groups[0]) == ["+30 more"]
    assert collapsed_groups[0].find(f".//{SVG}a") is None


def test_hub_neighbourhoods_stay_within_max_nodes_and_account_for_the_rest() -> None:
    # a component whose owner owns 500 components, in a system of 300, using a busy API
    entities = {f"component:default/c{i}": f"c{i}" for i in range(500)}
    entities |= {"group:default/hub": "Hub", "system:default/big": "Big"}
    entities |= {"api:default/popular": "Popular", "component:default/focus": "Focus"}
    hub = [(ref, "ownedBy", "group:default/hub") for ref in entities if ref.startswith("comp")]
    hub += [(f"component:default/c{i}", "partOf", "system:default/big") for i in range(300)]
    hub += [(f"component:default/c{i}", "consumesApi", "api:default/popular") for i in range(200)]
    hub += [("component:default/focus", "partOf", "system:default/big")]
    hub += [("component:default/focus", "consumesApi", "api:default/popular")]
    relations, nodes = catalog(entities, hub)

    for max_nodes in (60, 25, 8):
        graph, collapsed = neighbourhood(
            relations, nodes, "component:default/focus", href, max_nodes=max_nodes
        )
        assert len(graph.nodes) <= max_nodes
        # the focus's direct neighbours are always there
        assert {"group:default/hub", "system:default/big", "api:default/popular"} <= {
            n.key for n in graph.nodes
        }
        # every "+N more" node has its list, with the same count
        more = {n.key: n.collapsed for n in graph.nodes if n.collapsed}
        assert len(more) == len(collapsed) > 0
        assert sorted(more.values()) == sorted(len(c.keys) for c in collapsed)
        shown = {n.key for n in graph.nodes}
        listed = [key for c in collapsed for key in c.keys]
        assert len(listed) == len(set(listed)) and not shown & set(listed)

    # and it lays out fast enough to do for every page
    root = parse(render_svgs({"focus": graph}, None)["focus"])
    assert len(node_groups(root)) == len(graph.nodes)


def test_a_relation_to_a_missing_entity_is_drawn_dashed_without_a_link() -> None:
    relations, nodes = catalog(
        {"component:default/orders": "Orders", "group:default/team-a": "Team A"},
        [
            ("component:default/orders", "ownedBy", "group:default/team-a"),
            ("component:default/orders", "dependsOn", "resource:default/gone-db"),
        ],
    )
    graph, _ = neighbourhood(relations, nodes, "component:default/orders", href)
    missing = [n for n in graph.nodes if n.missing]
    assert [(n.key, n.kind, n.href) for n in missing] == [("resource:default/gone-db", "", None)]

    root = parse(render_svgs({"orders": graph}, None)["orders"])
    gone = node_groups(root)["resource:default/gone-db"]
    assert "missing" in gone.get("class", "").split()
    assert gone.find(f".//{SVG}a") is None
    # unfilled, so its text follows the page's colour (light or dark)
    assert {t.get("fill") for t in gone.iter(f"{SVG}text")} == {"currentColor"}
    outline = gone.find(f"{SVG}path")
    assert outline is not None and outline.get("stroke-dasharray")
    assert set(link_targets(root)) == {"component:default/orders", "group:default/team-a"}


def test_a_cached_graph_is_not_laid_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relations, nodes = catalog(SHOP_ENTITIES, SHOP_LINKS)
    graph, _ = neighbourhood(relations, nodes, "component:default/orders", href)
    first = render_svgs({"orders": graph, "same-graph-again": graph}, tmp_path)
    assert first["orders"] == first["same-graph-again"]
    cached = tmp_path / "graphs" / f"{graph.digest()}.svgz"
    assert gzip.decompress(cached.read_bytes()).decode() == first["orders"]
    assert cached.stat().st_size < len(first["orders"]) / 3  # kept small: there are many

    def no_graphviz(graph: Graph) -> str:
        raise AssertionError("laid out again")

    monkeypatch.setattr(graphs._layout, "_layout", no_graphviz)
    assert render_svgs({"orders": graph}, tmp_path) == {"orders": first["orders"]}
    # a graph that changed is a cache miss (and here would need Graphviz)
    other, _ = neighbourhood(relations, nodes, "component:default/payments", href)
    assert other.digest() != graph.digest()
    with pytest.raises(AssertionError, match="laid out again"):
        render_svgs({"payments": other}, tmp_path)


HOSTILE = [
    '"><script>alert(1)</script>',
    "<b>x</b>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(document.cookie)",
    "]]><script>alert(2)</script>",
    "--><script>alert(3)</script><!--",
    "\\N \\G \\L &amp; &lt;tag&gt; &#60;",
    '<a href="javascript:alert(4)">x</a>',
    "&nbsp; &bogus; &#0; &#xD800;",
]


def test_hostile_labels_stay_text(tmp_path: Path) -> None:
    entities = {f"component:default/c{i}": label for i, label in enumerate(HOSTILE)}
    entities["group:default/team"] = "<svg onload=alert(5)>"
    entities["component:default/controls"] = "null\x00 bidi\u202e ]]>"
    owned = [
        (ref, "ownedBy", "group:default/team") for ref in entities if ref != "group:default/team"
    ]
    relations, nodes = catalog(entities, owned)

    def hostile_href(ref: str) -> str:
        return "javascript:alert(6)" if ref.endswith("c0") else href(ref)

    graph, _ = neighbourhood(relations, nodes, "group:default/team", hostile_href)
    svg = render_svgs({"team": graph}, tmp_path)["team"]
    root = parse(svg)

    tags = {element.tag for element in root.iter()}
    assert tags <= {f"{SVG}{t}" for t in ("svg", "g", "title", "path", "polygon", "text", "a")}
    for element in root.iter():
        assert not [name for name in element.attrib if name.lower().startswith("on")]
        assert "javascript" not in element.get("href", "").lower()
    assert "<script" not in svg and "<b>" not in svg and "<img" not in svg and "<!--" not in svg
    # every label reads exactly as written
    drawn = node_groups(root)
    for ref, label in entities.items():
        if ref != "component:default/controls":
            assert texts(drawn[ref]) == [label]
    # control and bidi-override characters, which XML or the reader would trip on, are spaces
    assert texts(drawn["component:default/controls"]) == ["null bidi ]]>"]
    # the node whose href is unsafe is drawn without a link; the others keep theirs
    assert drawn["component:default/c0"].find(f".//{SVG}a") is None
    assert link_targets(root)["component:default/c1"] == href("component:default/c1")


def test_fifty_graphs_render_in_parallel() -> None:
    relations, nodes = big_team(60)
    pages = {
        f"svc-{i}": neighbourhood(relations, nodes, f"component:default/svc-{i}", href)[0]
        for i in range(50)
    }
    svgs = render_svgs(pages, None, workers=2)
    assert set(svgs) == set(pages)
    for page, svg in svgs.items():
        focus = node_groups(parse(svg))[f"component:default/{page}"]
        assert "focus" in focus.get("class", "").split()


def test_the_sanitiser_keeps_only_plain_svg_whatever_graphviz_emits() -> None:
    # Defence in depth: even if Graphviz's output carried active content, none survives.
    graph = Graph((graphs.GraphNode("component:default/a", "Component", "A", "../a/"),), ())
    raw = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY boom "boom">]>
<!-- comment -->
<svg width="62pt" height="44pt" viewBox="0 0 62 44" onload="alert(1)"
 xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<script>alert(2)</script>
<g id="graph0" class="graph" style="fill:url(https://evil.example/x)">
<polygon fill="white" points="0,0 62,0 62,44"/>
<!-- n0 -->
<g id="n0" class="node"><title>n0</title>
<ellipse fill="url(#p)" stroke="black" onclick="alert(3)" cx="27" cy="18" rx="27" ry="18"/>
<text x="27" y="22">graphviz text</text>
<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
<a xlink:href="javascript:alert(4)"><text>x</text></a>
<set attributeName="href" to="javascript:alert(5)"/>
</g>
</g>
</svg>"""
    svg = graphs._svg.finish(raw, graph)
    root = parse(svg)
    assert {e.tag for e in root.iter()} <= {f"{SVG}{t}" for t in ("svg", "g", "title", "a")} | {
        f"{SVG}ellipse",
        f"{SVG}text",
    }
    for bad in ("script", "alert", "url(", "xlink", "foreignObject", "<!--", "boom", "style"):
        assert bad not in svg
    assert link_targets(root) == {"component:default/a": "../a/"}
    node = node_groups(root)["component:default/a"]
    assert texts(node)[0] == "A"  # our label, not whatever Graphviz wrote
    assert root.get("width") == "62" and root.get("height") is None


def test_a_card_is_drawn_without_graphviz_and_finished_like_any_graph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Half a build's graphs are depth-1 cards: stars around their focus, laid out without
    a Graphviz process, then sanitised by the same step as Graphviz's drawings."""
    from generator.site.graphs import _layout

    relations, nodes = catalog(SHOP_ENTITIES, SHOP_LINKS)
    card, _ = neighbourhood(relations, nodes, "component:default/orders", href, depth=1)
    wide, _ = neighbourhood(relations, nodes, "component:default/orders", href)

    def no_graphviz(*args: object, **kwargs: object) -> None:
        raise AssertionError("Graphviz was asked to lay out a star")

    monkeypatch.setattr(_layout.pygraphviz, "AGraph", no_graphviz)
    root = parse(graphs.render_svg(card))
    assert link_targets(root) == {n.key: href(n.key) for n in card.nodes}
    drawn = node_groups(root)
    assert drawn["component:default/orders"].get("class") == "node kind-component focus"
    edge_labels = sorted(
        t for g in root.iter(f"{SVG}g") if "edge" in g.get("class", "") for t in texts(g)
    )
    assert edge_labels == sorted(e.label for e in card.edges)
    assert root.get("viewBox") and float(root.get("width", "0")).is_integer()
    with pytest.raises(AssertionError, match="Graphviz was asked"):
        graphs.render_svg(wide)  # edges between neighbours: Graphviz's job
    focus = next(n for n in card.nodes if n.focus)
    loop = Graph(card.nodes, (*card.edges, GraphEdge(focus.key, focus.key, "dependsOn")))
    with pytest.raises(AssertionError, match="Graphviz was asked"):
        graphs.render_svg(loop)  # an entity related to itself is no star either
