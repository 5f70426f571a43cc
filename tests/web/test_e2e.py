"""The web pages in a real browser: Debian's chromium driven by Playwright, against the service
started with ``opensirt serve`` on 127.0.0.1 on a registry holding the demo patient.

The scenario of a plan's review: log in, open the demo patient, scroll the viewer, sign as
physicist, fail to sign again as the same user, sign as physician, record an adverse event (a
script tag in its text is shown as text), see it in the timeline and its audit history. Any
request to another host is refused and fails the test (the pages work offline). Screenshots
of the main pages go to ``artifacts/web`` at the repository root (ignored by git).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from web_session import WebSession as _Session

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow


def _plan_url(session: _Session, state: str) -> str:
    """Open the demo patient from the list; the review page of its plan in ``state``."""
    page = session.page
    page.goto(session.base + "/")
    page.fill("#q", "DEMO")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#list-status >> text=of 1")
    page.click("#patient-rows >> text=DEMO-001")
    page.wait_for_selector("#timeline li.kind-plan")
    entry = page.locator("#timeline li.kind-plan", has_text=state).first
    href = entry.locator("a", has_text="Review plan").get_attribute("href")
    assert href is not None
    assert href.startswith("/plans/")
    return session.base + href


def test_review_sign_and_record_in_the_browser(browser: Browser, server: str) -> None:
    physicist = _Session(browser, server)
    physicist.login("physicist")
    physicist.shot("patients-1280")
    plan_url = _plan_url(physicist, "draft")
    page = physicist.page
    physicist.shot("patient-1280")

    # The plan: images, DVH, limits, methods; scroll the viewer through the slices.
    page.goto(plan_url)
    page.wait_for_selector("#viewer[data-ready=true]", timeout=60_000)
    page.wait_for_selector("#limits tr.binding")
    physicist.shot("plan-1280")
    assert page.locator("#methods th", has_text="voxel").count() >= 1
    box = page.locator("#viewer").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    before = page.text_content("#location")
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    for _ in range(5):
        page.mouse.wheel(0, 120)
    page.wait_for_function(f"document.querySelector('#location').textContent !== {before!r}")
    assert " Gy" in (page.text_content("#location") or "")
    page.fill("#threshold", "30")
    page.dispatch_event("#threshold", "input")
    assert page.text_content("#threshold-out") == "30 Gy"
    assert page.locator("#legend-ticks span").first.text_content() == "30"
    dvh = page.locator(".dvh-plot .hit").bounding_box()
    assert dvh is not None
    assert page.locator(".dvh-plot path.curve").count() >= 3
    hit = page.locator(".dvh-plot .hit")
    hit.hover(position={"x": dvh["width"] * 0.25, "y": dvh["height"] / 2})
    readout = page.text_content(".dvh-readout") or ""
    assert " Gy: " in readout
    assert "%" in readout
    report = page.get_attribute("#report", "href")
    assert report == "/api" + plan_url.removeprefix(server) + "/report.pdf"
    assert page.is_disabled("#sign-physician")
    assert "physician role" in (page.text_content("#sign-physician-reason") or "")

    # Sign as physicist; signing again as the same user shows the service's refusal.
    page.click("#sign-physicist")
    page.wait_for_selector("#signing li >> text=physicist: signed by physicist")
    page.click("#sign-physicist")
    error = page.wait_for_selector("#sign-status .error")
    assert "already" in (error.text_content() or "")
    assert page.text_content("#plan-state") == "draft"
    physicist.close()

    # The physician signs: the plan is approved; the audit log shows both signatures.
    physician = _Session(browser, server)
    physician.login("physician")
    page = physician.page
    page.goto(plan_url)
    page.wait_for_selector("#signing li >> text=physicist: signed by physicist")
    page.click("#sign-physician")
    page.wait_for_selector("#plan-state >> text=approved")
    history = page.wait_for_selector("#plan-history li >> text=physician")
    assert history is not None

    # An adverse event: checked in the page first, then recorded and shown in the timeline.
    page.click("#patient-link")
    form = "#form-adverse-event"
    page.wait_for_selector(form)
    page.click(f"{form} button[type=submit]")
    assert page.text_content(f"{form}-term-error") == "required"
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    page.fill(f"{form}-date", tomorrow)
    page.fill(f"{form}-grade", "7")
    page.click(f"{form} button[type=submit]")
    assert "future" in (page.text_content(f"{form}-date-error") or "")
    assert page.text_content(f"{form}-grade-error") == "at most 5"
    hostile = "<script>window.__xss = 1</script>Nausea"
    page.fill(f"{form}-date", "2026-11-27")
    page.fill(f"{form}-term", hostile)
    page.fill(f"{form}-grade", "2")
    page.select_option(f"{form}-attribution", "possible")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(f"{form} .ok")
    event = page.locator("#timeline li.kind-adverse-event")
    event.wait_for()
    assert hostile in (event.text_content() or "")
    assert page.evaluate("window.__xss") is None
    event.locator("button", has_text="History").click()
    event.locator(".history li", has_text="physician").wait_for()
    physician.shot("patient-after-adverse-event-1280")

    # What only the service checks (a role name of at most 64 characters) comes back as a
    # field error, shown next to its field.
    mdt = "#form-mdt"
    page.fill(f"{mdt}-date", "2026-11-28")
    page.fill(f"{mdt}-roles_present", "r" * 80)
    page.check(f"{mdt} input[value=sirt]")
    page.select_option(f"{mdt}-chosen", "sirt")
    page.select_option(f"{mdt}-intent", "palliative")
    page.click(f"{mdt} button[type=submit]")
    page.wait_for_selector(f"{mdt}-roles_present[aria-invalid=true]")
    assert "64" in (page.text_content(f"{mdt}-roles_present-error") or "")
    assert page.locator("#timeline li.kind-mdt").count() == 1
    physician.close()


def _too_wide(page: Page, limit_px: int = 768) -> list[str]:
    """The elements whose right edge lies beyond ``limit_px`` (what makes a page too wide)."""
    script = """limit => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > limit)
        .slice(0, 12)
        .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} `
                  + `${Math.round(e.getBoundingClientRect().width)}px`)"""
    found: list[str] = page.evaluate(script, limit_px)
    return found


def test_pages_at_tablet_width(browser: Browser, server: str) -> None:
    """At 768 px the pages lay out in one column: nothing wider than the window."""
    session = _Session(browser, server, width=768, height=1024)
    session.login("viewer")
    page = session.page
    session.shot("patients-768")
    plan_url = _plan_url(session, "approved")
    assert "read only" in (page.text_content("#forms") or "")
    page.click("#timeline a >> text=Review verification")
    page.wait_for_selector("#structures tbody tr")
    assert page.locator("#structures tr.flagged").count() >= 1
    assert "flagged" in (page.text_content("#summary") or "")
    session.shot("verification-768")
    page.goto(plan_url)
    page.wait_for_selector("#viewer[data-ready=true]", timeout=60_000)
    page.wait_for_selector("#limits table")
    assert page.is_disabled("#sign-physicist")
    assert page.is_disabled("#sign-physician")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"the plan page is {width} px wide at a 768 px window: {_too_wide(page)}"
    session.shot("plan-768")
    font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('td')).fontSize)")
    assert font >= 14
    session.close()
