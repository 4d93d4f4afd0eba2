"""SVG files from a repository, rebuilt from an allow-list before they are published.

An SVG opened by its own URL is a document on the portal's origin: a ``<script>``, an
``onload`` or a ``<foreignObject>`` full of HTML in it runs there. So, as the portal does
with Graphviz's output, an SVG is parsed (expat: no DTD, no entities, no external
anything) and written again with only the elements and attributes that draw; every
reference must stay inside the file (``url(#id)``, ``href="#id"``) or be an inline
raster image. Styles inside are kept only when the stylesheet checker passes them.
A file that is not well-formed SVG is refused, not guessed at.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Iterable
from html import escape

from ..errors import BacklotError
from ._css import check_css, check_style_attribute

__all__ = ["SvgRefused", "sanitize_svg"]

_SHAPES = {
    "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "switch",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "textPath", "image", "a",
    "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker",
    "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite",
    "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap", "feDistantLight",
    "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
    "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset",
    "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
    "style",
}  # fmt: skip
_ATTRIBUTES = {
    "id", "class", "style", "transform", "d", "x", "y", "x1", "y1", "x2", "y2",
    "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "width", "height", "viewBox",
    "preserveAspectRatio", "points", "pathLength", "version", "xmlns", "xmlns:xlink",
    "xml:space", "xml:lang", "lang", "fill", "fill-opacity", "fill-rule", "stroke",
    "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-dasharray",
    "stroke-dashoffset", "stroke-opacity", "stroke-miterlimit", "opacity", "color",
    "display", "visibility", "overflow", "clip-rule", "clip-path", "clipPathUnits", "mask",
    "maskUnits", "maskContentUnits", "filter", "filterUnits", "primitiveUnits",
    "font-family", "font-size", "font-weight", "font-style", "font-variant",
    "font-stretch", "text-anchor", "dominant-baseline", "alignment-baseline",
    "baseline-shift", "letter-spacing", "word-spacing", "text-decoration", "writing-mode",
    "dx", "dy", "rotate", "textLength", "lengthAdjust", "startOffset", "method", "spacing",
    "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform",
    "spreadMethod", "patternUnits", "patternContentUnits", "patternTransform",
    "marker-start", "marker-mid", "marker-end", "markerWidth", "markerHeight",
    "markerUnits", "refX", "refY", "orient", "in", "in2", "result", "stdDeviation",
    "mode", "operator", "k1", "k2", "k3", "k4", "values", "type", "tableValues",
    "slope", "intercept", "amplitude", "exponent", "order", "kernelMatrix", "divisor",
    "bias", "targetX", "targetY", "edgeMode", "preserveAlpha", "scale",
    "xChannelSelector", "yChannelSelector", "baseFrequency", "numOctaves", "seed",
    "stitchTiles", "radius", "surfaceScale", "diffuseConstant", "specularConstant",
    "specularExponent", "kernelUnitLength", "azimuth", "elevation", "z", "pointsAtX",
    "pointsAtY", "pointsAtZ", "limitingConeAngle", "flood-color", "flood-opacity",
    "lighting-color", "color-interpolation", "color-interpolation-filters",
    "vector-effect", "shape-rendering", "text-rendering", "image-rendering",
    "paint-order", "mix-blend-mode", "isolation", "pointer-events", "role",
    "aria-label", "aria-labelledby", "aria-describedby", "aria-hidden", "focusable",
    "href", "xlink:href", "requiredFeatures", "systemLanguage",
}  # fmt: skip
_LINKS = frozenset({"href", "xlink:href"})
_LOCAL_URL = re.compile(r"\s*url\(\s*['\"]?#[^)'\"]*['\"]?\s*\)\s*", re.IGNORECASE)
_ANY_URL = re.compile(r"url\s*\(|\\", re.IGNORECASE)
_RASTER_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp|avif);base64,[A-Za-z0-9+/=\s]*")
MAX_BYTES = 10 * 1024 * 1024


class SvgRefused(BacklotError, ValueError):
    """The file cannot be published as an image; the message says why."""


def sanitize_svg(data: bytes, allowed_hosts: Iterable[str] = ()) -> tuple[bytes, list[str]]:
    """The SVG rebuilt from the allow-list, and what was left out (for a warning)."""
    if len(data) > MAX_BYTES:
        raise SvgRefused(f"it is over {MAX_BYTES // 2**20} MB")
    builder = _Builder(tuple(allowed_hosts))
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = builder.refuse_doctype
    parser.EntityDeclHandler = builder.refuse_entity
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.text
    parser.ordered_attributes = True
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise SvgRefused(f"it is not well-formed XML ({exc})") from None
    if builder.root != "svg":
        raise SvgRefused("its root element is not <svg>")
    return "".join(builder.out).encode("utf-8"), sorted(builder.dropped)


class _Builder:
    def __init__(self, allowed_hosts: tuple[str, ...]) -> None:
        self.allowed_hosts = allowed_hosts
        self.out: list[str] = []
        self.dropped: set[str] = set()
        self.root: str | None = None
        self.open: list[str] = []
        self.skipping = 0  # depth inside an element left out, with all its content
        self.style: list[str] | None = None

    def refuse_doctype(self, *args: object) -> None:
        raise SvgRefused("it declares a DOCTYPE (entities can expand or reach outside)")

    def refuse_entity(self, *args: object) -> None:
        raise SvgRefused("it declares XML entities")

    def start(self, name: str, attributes: list[str]) -> None:
        if self.root is None:
            self.root = name
        if self.skipping or name not in _SHAPES:
            if not self.skipping:
                self.dropped.add(f"<{name}>")
            self.skipping += 1
            return
        self.open.append(name)
        if name == "style":
            self.style = []
        kept: list[str] = []
        if len(self.open) == 1:  # served as a file, the root must name SVG's namespace
            kept.append(' xmlns="http://www.w3.org/2000/svg"')
            attributes = [a for i, a in enumerate(attributes) if attributes[i - i % 2] != "xmlns"]
        for key, value in zip(attributes[::2], attributes[1::2], strict=True):
            if self._keep(name, key, value):
                kept.append(f' {key}="{escape(value, quote=True)}"')
            else:
                self.dropped.add(f"{key}=" if not key.startswith("on") else "event handlers")
        self.out.append(f"<{name}{''.join(kept)}>")

    def _keep(self, element: str, key: str, value: str) -> bool:
        if key not in _ATTRIBUTES:
            return False
        if key in _LINKS:
            stripped = value.strip()
            return stripped.startswith("#") or (
                element == "image" and _RASTER_DATA.fullmatch(stripped) is not None
            )
        if key == "style":
            return not check_style_attribute(value, self.allowed_hosts)
        if _ANY_URL.search(value):
            return _LOCAL_URL.fullmatch(value) is not None
        return True

    def end(self, name: str) -> None:
        if self.skipping:
            self.skipping -= 1
            return
        self.open.pop()
        if name == "style" and self.style is not None:
            css = "".join(self.style)
            self.style = None
            if check_css(css, self.allowed_hosts):
                self.dropped.add("<style> that loads from outside")
            else:
                self.out.append(escape(css, quote=False))
        self.out.append(f"</{name}>")

    def text(self, data: str) -> None:
        if self.skipping:
            return
        if self.style is not None:
            self.style.append(data)
        else:
            self.out.append(escape(data, quote=False))
