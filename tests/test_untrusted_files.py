"""The checks that decide what of a repository's docs/ folder is published: where a URL would
take the browser, which stylesheets load from elsewhere, and what of an SVG may stay."""

from __future__ import annotations

import pytest

from generator.docs._css import check_css, check_style_attribute
from generator.docs._svg import SvgRefused, sanitize_svg
from generator.model import outside_origin


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("img/a.png", None),
        ("../shared/a.png", None),
        ("#gradient", None),
        ("data:image/png;base64,AAAA", None),
        ("data:font/woff2;base64,AAAA", None),
        ("data:text/html,<script>", "data:"),
        ("https://cdn.acme.com/a.png", "cdn.acme.com"),
        ("HTTP://Evil.Example:8080/a.png", "evil.example"),
        ("//evil.example/a.png", "evil.example"),
        ("\\\\evil.example/a.png", "evil.example"),  # browsers read \ as /
        ("/\\evil.example/a.png", "evil.example"),
        (" \t//evil.example/a.png", "evil.example"),
        ("https:evil.example", "https:"),  # a host or a path, depending on the page
        ("ja\tvascript:alert(1)", "javascript:"),
        ("https://user@evil.example/", "evil.example"),
    ],
)
def test_where_a_resource_url_goes(url: str, where: str | None) -> None:
    assert outside_origin(url) == where


def test_stylesheets_that_load_from_elsewhere_are_found_however_spelled() -> None:
    css = """
    @import "other.css";
    .a { background: url(https://evil.example/a.png) }
    .b { background: u\\72l(//evil.example/b.png) }
    @media print { .c { background-image: image-set("https://evil.example/c.png" 1x) } }
    @font-face { font-family: x; src: url('https://fonts.evil.example/x.woff2') format("woff2") }
    .d { background: url(local.png); mask: url(#mask) }
    .e { background: url(data:image/png;base64,AAAA) }
    @namespace svg url(http://www.w3.org/2000/svg);
    """
    problems = check_css(css)
    lines = [p.line for p in problems]
    assert lines == [2, 3, 4, 5, 6], problems
    assert "@import" in problems[0].message
    assert "evil.example" in problems[2].message  # the escaped url( is decoded
    assert check_css(css.split("\n", 2)[2], ["evil.example", "fonts.evil.example"]) == []


def test_an_image_named_through_a_custom_property_is_refused() -> None:
    """``var()`` hands image-set() a string the checker cannot see: in a standalone SVG,
    which carries no policy of its own, it would load from anywhere."""
    css = 'body { --x: "https://evil.example/a.png"; background-image: image-set(var(--x) 1x) }'
    [problem] = check_css(css)
    assert "var()" in problem.message
    assert check_style_attribute("background-image: image-set(var(--x) 1x)")


def test_style_attributes_are_checked_as_declarations() -> None:
    assert check_style_attribute("fill: red; stroke: url(#a)") == []
    assert check_style_attribute("background: url(//evil.example/x)")


def test_an_svg_keeps_its_drawing_and_loses_everything_active() -> None:
    svg = b"""<?xml version="1.0"?>
    <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
         viewBox="0 0 10 10" onload="alert(1)">
      <script>alert(2)</script>
      <defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>
      <rect width="10" height="10" fill="url(#g)" style="stroke: blue"/>
      <rect width="1" height="1" fill="url(https://evil.example/#x)"/>
      <use xlink:href="https://evil.example/sprite.svg#icon"/>
      <use href="#g"/>
      <image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>
      <image href="https://evil.example/track.png" width="1" height="1"/>
      <a href="javascript:alert(3)"><text x="1" y="5">A &amp; B</text></a>
      <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">html</div></foreignObject>
      <style>@import url(https://evil.example/x.css);</style>
      <style>rect { opacity: .5 }</style>
      <?xml-stylesheet href="https://evil.example/x.css"?>
    </svg>"""
    clean, dropped = sanitize_svg(svg)
    text = clean.decode()
    for gone in ("alert", "evil.example", "foreignObject", "<script", "onload", "<?xml-stylesheet"):
        assert gone not in text, gone
    for kept in ('fill="url(#g)"', 'style="stroke: blue"', '<use href="#g">', "A &amp; B"):
        assert kept in text, kept
    assert 'href="data:image/png;base64,iVBORw0KGgo="' in text
    assert "rect { opacity: .5 }" in text
    assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert {"<script>", "<foreignObject>", "event handlers"} <= set(dropped)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'<!DOCTYPE svg [<!ENTITY a "aaaaaaaa">]><svg>&a;</svg>', "DOCTYPE"),
        (b"<html><body><script>alert(1)</script></body></html>", "root element"),
        (b"<svg><rect></svg>", "well-formed"),
        (b"not xml at all", "well-formed"),
    ],
)
def test_what_is_not_plain_svg_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(SvgRefused, match=why):
        sanitize_svg(data)
