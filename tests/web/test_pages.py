"""The pages that start work, in a real browser (Debian's chromium driven by Playwright, the
service as ``tests/web/conftest.py`` starts it): a plan from uploaded DICOM followed to its
plan page, the nurses' monitoring form, assessing a case and the response from a measurement
table. Errors are shown next to their field, free text as text; screenshots of each page at
1280 x 800 and at a tablet's 820 x 1180 go to ``artifacts/web``."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from web_session import WebSession

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow  # the demo registry and a browser: minutes of setup

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOSTILE = "<script>window.__xss = 1</script>"


def _zip_folder(folder: Path, target: Path) -> Path:
    """The files under ``folder`` in a zip at ``target``, named from ``folder``'s parent."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent).as_posix())
    return target


def _fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide in a {width} px window"


def _patient(session: WebSession, pseudonym: str = "DEMO-001") -> Page:
    page = session.page
    page.goto(f"{session.base}/patients/{pseudonym}")
    page.wait_for_selector("#timeline li.kind-session")
    return page


def test_plan_from_uploaded_dicom_with_progress(
    browser: Browser, server: str, small_study: Path, tmp_path: Path
) -> None:
    session = WebSession(browser, server)
    session.login("physicist")
    page = _patient(session)
    page.click("#patient-nav-plan")
    page.wait_for_url("**/jobs/new?patient=DEMO-001")
    page.click("#job-submit")
    assert "required" in (page.text_content("#job-case-error") or "")
    assert "required" in (page.text_content("#job-dicom-error") or "")

    # What the service refuses comes back next to the DICOM field.
    (tmp_path / "images.zip").write_bytes(b"PK not a zip at all")
    page.set_input_files("#job-case", str(small_study / "case.yaml"))
    page.set_input_files("#job-dicom", str(tmp_path / "images.zip"))
    page.click("#job-submit")
    page.wait_for_selector("#job-dicom-error >> text=not a zip")
    foreign = io.BytesIO()
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("dicom/notes.txt", HOSTILE)
    (tmp_path / "foreign.zip").write_bytes(foreign.getvalue())
    page.set_input_files("#job-dicom", str(tmp_path / "foreign.zip"))
    page.click("#job-submit")
    page.wait_for_selector("#job-dicom-error >> text=not a DICOM")
    assert page.get_attribute("#job-dicom", "aria-invalid") == "true"
    session.shot("job-upload-error-1280")

    # The real upload: the job's page follows it to the plan it recorded.
    page.set_input_files("#job-dicom", str(_zip_folder(small_study / "dicom", tmp_path / "d.zip")))
    page.click("#job-submit")
    page.wait_for_url("**/jobs/*?patient=DEMO-001")
    ended = "#job[data-state=done], #job[data-state=failed]"
    started = f"#job[data-state=running] #job-step:not(:empty), {ended}"
    page.wait_for_selector(started, timeout=300_000)
    assert page.locator("#job-form").is_hidden()
    session.shot("job-progress-1280")
    page.wait_for_selector(ended, timeout=300_000)
    assert page.get_attribute("#job", "data-state") == "done", page.text_content("#job-result")
    assert page.get_attribute("#job-progress", "value") == "1"
    assert page.text_content("#job-percent") == "100 %"
    session.shot("job-done-1280")
    page.click("#job-link")
    page.wait_for_url("**/plans/*")
    page.wait_for_selector("#plan-state >> text=draft")
    session.close()


def test_monitoring_form(browser: Browser, server: str) -> None:
    session = WebSession(browser, server)
    session.login("nurse")
    page = _patient(session)
    assert page.locator("#nav-assess, #nav-plan, #patient-nav-plan").count() == 0
    assert page.locator("#patient-nav-response").count() == 1
    day = page.get_attribute("#timeline li.kind-session time", "datetime") or ""
    before = page.locator("#timeline li.kind-monitoring").count()
    form = "#form-monitoring"
    page.click(f"{form} button[type=submit]")
    for field in ("date", "start", "end", "discharged"):
        assert page.text_content(f"{form}-{field}-error") == "required", field

    # The page's checks: the end after the start, vital signs in range.
    page.fill(f"{form}-date", day)
    page.fill(f"{form}-start", f"{day}T11:00")
    page.fill(f"{form}-end", f"{day}T10:00")
    page.select_option(f"{form}-discharged", "yes")
    page.click(f"{form} button[type=submit]")
    assert "after the start" in (page.text_content(f"{form}-end-error") or "")
    page.fill(f"{form}-end", f"{day}T16:00")
    page.fill(f"{form}-observations-0-time", "11:30")
    page.fill(f"{form}-observations-0-heart_rate_bpm", "400")
    page.click(f"{form} button[type=submit]")
    assert "at most 250" in (page.text_content(f"{form}-observations-error") or "")
    assert page.get_attribute(f"{form}-observations", "aria-invalid") == "true"

    # The service's check (a session on that date), shown next to the date.
    page.fill(f"{form}-observations-0-heart_rate_bpm", "82")
    page.fill(f"{form}-observations-0-pain_nrs", "2")
    earlier = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
    page.fill(f"{form}-date", earlier)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(f"{form}-date-error >> text=no treatment session")
    page.fill(f"{form}-date", day)
    page.fill(f"{form}-notes", HOSTILE + "calm")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(f"{form} .ok")
    entry = page.locator("#timeline li.kind-monitoring").nth(before)
    entry.wait_for()
    assert "1 observation(s)" in (entry.text_content() or "")
    assert page.evaluate("window.__xss") is None
    page.locator(form).scroll_into_view_if_needed()
    session.shot("patient-monitoring-1280")
    session.close()


def test_assess_a_case_and_the_response(browser: Browser, server: str, tmp_path: Path) -> None:
    session = WebSession(browser, server)
    session.login("physician")
    page = session.page
    page.click("#nav-assess")
    page.wait_for_url("**/assess")
    page.set_input_files("#assess-case", str(EXAMPLES / "assess_partition_resin.yaml"))
    page.click("#assess-submit")
    page.wait_for_selector("#assessment:not([hidden])")
    assert page.text_content("#verdict-value") == "caution"
    assert "hepatic reserve" in (page.text_content("#eligibility tr.binding") or "")
    assert "A5" in (page.text_content("#scores") or "")
    session.shot("assess-1280")
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"opensirt_case: 1\npatient:\n  id: '{HOSTILE}'\n")
    page.set_input_files("#assess-case", str(bad))
    page.click("#assess-submit")
    page.wait_for_selector("#assess-case[aria-invalid=true]")
    assert (page.text_content("#assess-case-error") or "") != ""
    assert page.locator("#assessment").is_hidden()
    session.shot("assess-error-1280")

    page.click("#nav-response")
    page.wait_for_url("**/response")
    page.set_input_files("#response-table", str(EXAMPLES / "response_measurements.csv"))
    page.fill("#response-sd_min_days", "-1")
    page.click("#response-submit")
    assert "at least 0" in (page.text_content("#response-sd_min_days-error") or "")
    page.fill("#response-sd_min_days", "42")
    page.click("#response-submit")
    page.wait_for_selector("#responses:not([hidden]) .response-table")
    best = page.locator(".response-patient", has_text="DEMO-001").locator("tr.best")
    assert [c.strip() for c in best.locator("td").all_text_contents()] == ["SD", "PR", "PR"]
    session.shot("response-1280")
    broken = tmp_path / "broken.csv"
    broken.write_text(f"patient_id,lesion_id\nDEMO-001,{HOSTILE}\n")
    page.set_input_files("#response-table", str(broken))
    page.click("#response-submit")
    page.wait_for_selector("#response-table[aria-invalid=true]")
    assert (page.text_content("#response-table-error") or "") != ""
    assert page.evaluate("window.__xss") is None
    session.close()


def test_new_pages_at_tablet_width(browser: Browser, server: str) -> None:
    session = WebSession(browser, server, width=820, height=1180)
    session.login("physicist")
    page = _patient(session)
    page.locator("#form-monitoring").scroll_into_view_if_needed()
    _fits(page, 820)
    session.shot("patient-820")
    page.goto(f"{server}/jobs/new?kind=verify&patient=DEMO-001")
    page.wait_for_selector("#job-tolerance:visible")
    _fits(page, 820)
    session.shot("job-verify-820")
    page.goto(f"{server}/assess")
    page.set_input_files("#assess-case", str(EXAMPLES / "assess_partition_resin.yaml"))
    page.click("#assess-submit")
    page.wait_for_selector("#assessment:not([hidden])")
    _fits(page, 820)
    session.shot("assess-820")
    page.goto(f"{server}/response")
    page.set_input_files("#response-table", str(EXAMPLES / "response_measurements.csv"))
    page.click("#response-submit")
    page.wait_for_selector("#responses:not([hidden]) .response-table")
    _fits(page, 820)
    session.shot("response-820")
    session.close()
