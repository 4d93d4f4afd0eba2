"""Group and User pages in Chromium: the parent chain, child groups and member cards with
pictures the portal serves itself (the host they came from is gone by then), at desktop
and phone width; a picture that failed shows the initials."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import GroupPortal, GuardedPageFactory, Serve

PAYMENTS = "catalog/default/group/payments/index.html"

# Whether an avatar's picture is drawn: its natural size, and its centre pixel's alpha as
# a canvas reads it (the blank a failed picture is served as is transparent).
PICTURE_STATE = """card => {
  const img = card.querySelector('.avatar img');
  if (!img) return null;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const g = canvas.getContext('2d');
  g.drawImage(img, 0, 0, 1, 1);
  return {src: img.currentSrc, width: img.naturalWidth, alpha: g.getImageData(0, 0, 1, 1).data[3],
          complete: img.complete};
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_a_groups_page_shows_its_chain_children_and_members_with_pictures(
    group_portal: GroupPortal, serve: Serve, guarded_page: GuardedPageFactory, width: int
) -> None:
    base = serve(group_portal.site)
    guard = guarded_page(allowed_origin=base, viewport={"width": width, "height": 900})
    guard.visit(base + PAYMENTS)
    page: Any = guard.page

    chain = page.locator("ol.chain li")
    assert chain.all_inner_texts() == ["Acme", "Engineering", "Payments"]
    assert page.locator("ol.chain a").evaluate_all("as => as.map(a => a.pathname)") == [
        "/catalog/default/group/root/index.html",
        "/catalog/default/group/engineering/index.html",
    ]
    children = page.locator(".hierarchy .person-card")
    assert children.all_inner_texts() == ["PA\nPayments API"]

    cards = page.locator(".members .person-card")
    assert cards.count() == 4
    for card in cards.all():
        card.scroll_into_view_if_needed()  # pictures load lazily
        box = card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    page.wait_for_timeout(200)
    state = {
        card.get_attribute("data-member"): card.evaluate(PICTURE_STATE) for card in cards.all()
    }
    for loaded in ("user:default/alice", "user:default/bob"):
        picture = state[loaded]
        assert picture is not None and picture["complete"], loaded
        assert picture["src"].startswith(base + "pictures/"), picture
        assert picture["width"] == 32 and picture["alpha"] == 255, (loaded, picture)
    carol = state["user:default/carol"]  # its host said 404: a blank over the initials
    assert carol is not None and carol["src"].startswith(base) and carol["alpha"] == 0
    assert state["user:default/dave"] is None  # a host not allowed: no <img> at all
    alice = cards.filter(has_text="Alice")
    assert "alice@acme.example" in alice.inner_text()
    assert alice.locator("a.email").get_attribute("href") == "mailto:alice@acme.example"

    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"the page is {overflow} px wide at {width}"
    # Nothing left 127.0.0.1's portal origin (the guard aborts and records anything
    # else), no console error, no policy violation.
    guard.assert_clean()


def test_a_page_whose_picture_failed_shows_the_initials(
    group_portal: GroupPortal, serve: Serve, guarded_page: GuardedPageFactory
) -> None:
    base = serve(group_portal.site)
    guard = guarded_page(allowed_origin=base, viewport={"width": 390, "height": 800})
    for name, initials, drawn in (
        ("carol", "CA", False),
        ("dave", "DA", False),
        ("alice", "AL", True),
    ):
        guard.visit(base + f"catalog/default/user/{name}/index.html")
        page: Any = guard.page
        head = page.locator(".title-row .avatar")
        assert head.locator(".initials").inner_text() == initials
        assert head.locator(".initials").is_visible()
        picture = page.locator(".title-row").evaluate(PICTURE_STATE)
        if drawn:
            assert picture is not None and picture["alpha"] == 255
        else:
            # No picture, or a transparent one: the initials are what a reader sees.
            assert picture is None or picture["alpha"] == 0
        groups = page.locator(".members .person-card")
        assert groups.all_inner_texts() == ["PA\nPayments"]
        assert f"{name}@acme.example" in page.locator(".about").inner_text()
    guard.assert_clean()
