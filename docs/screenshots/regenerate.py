"""Regenerate the README's screenshots: the bundled example built into a temporary folder,
served over HTTP on 127.0.0.1, photographed in Debian's Chromium at 1280 and 390 px.

    .venv/bin/python docs/screenshots/regenerate.py [--out DIR] [--site DIR]

With ``--site`` an already built portal is photographed instead (handy while working on
the templates: build, then look).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
# name → path inside the portal; the pages a reader meets first.
PAGES = {
    "home": "index.html",
    "catalog": "catalog/index.html?lifecycle=production&sort=owner",
    "service": "catalog/default/component/orders-service/index.html",
    "group": "catalog/default/group/team-fulfilment/index.html",
    "api": "catalog/default/api/orders-api/api/index.html",  # its Definition view
    "docs": "docs/default/component/orders-service/index.html",
}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _build(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "generator", "build"],
        cwd=folder,
        check=True,
    )
    return folder / "site"


def photograph(site: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for width, viewport in WIDTHS.items():
                context = browser.new_context(viewport=viewport, color_scheme="light")
                page = context.new_page()
                for name, path in PAGES.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    target = out / f"{name}-{width}.png"
                    page.screenshot(path=str(target), full_page=False)
                    written.append(target)
                context.close()
            browser.close()
    finally:
        server.shutdown()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--site", type=Path, help="photograph this built portal")
    args = parser.parse_args()
    if args.site:
        written = photograph(args.site, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            written = photograph(_build(Path(tmp)), args.out)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
