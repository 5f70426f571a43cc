"""The web pages ship in the package and load nothing from elsewhere.

The Content-Security-Policy of the service forbids inline script and other origins, and the
pages must work without a network: every page references only local assets, has no inline
``<script>`` body and no ``on*`` handler attribute, and every text from the service is put in
with ``textContent`` (never ``innerHTML``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

STATIC = Path(str(resources.files("opensirt") / "api" / "static"))
PAGES = (
    "index.html",
    "login.html",
    "patient.html",
    "plan.html",
    "verification.html",
    "job.html",
    "assess.html",
    "response.html",
)
SCRIPTS = sorted((STATIC / "js").glob("*.js"))
NIIVUE = STATIC / "vendor" / "niivue" / "niivue.js"


class _Page(HTMLParser):
    """The parts of a page that the policy is about: scripts, links, handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self.style_attributes: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            if name in ("src", "href") and value:
                self.references.append(value)
            if name == "style":
                self.style_attributes.append(f"<{tag} style>")
        self._in_script = tag == "script" and "src" not in values
        if tag == "style":
            self.style_attributes.append("<style>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data.strip()[:60])


def _parse(name: str) -> _Page:
    page = _Page()
    page.feed((STATIC / name).read_text(encoding="utf-8"))
    return page


def test_static_files_are_in_the_package() -> None:
    for name in (*PAGES, "css/opensirt.css", "vendor/niivue/niivue.js", "vendor/niivue/LICENSE"):
        assert (STATIC / name).is_file(), f"{name} missing from the package's static folder"
    wanted = {"api.js", "dom.js", "plan.js", "viewer.js", "dvh.js", "forms.js"}
    assert {p.name for p in SCRIPTS} >= wanted


def test_niivue_bundle_is_one_self_contained_module() -> None:
    """The bundle is an ES module with Niivue inside; its licence names every package in it."""
    text = NIIVUE.read_text(encoding="utf-8")
    assert len(text) > 500_000, "the Niivue bundle looks truncated"
    assert re.search(r"export\s*\{[^}]*\bNiivue\b", text), "the bundle does not export Niivue"
    imports = re.findall(r"""(?:^|[;}])\s*import\s*[\w{*][^;"'`]*?from\s*["']([^"']+)""", text)
    assert imports == [], f"the bundle imports {imports}: it must be self-contained"
    licence = (STATIC / "vendor" / "niivue" / "LICENSE").read_text(encoding="utf-8")
    for package in ("@niivue/niivue", "gl-matrix", "nifti-reader-js", "fflate"):
        assert package in licence


@pytest.mark.parametrize("name", PAGES)
def test_pages_reference_only_local_assets(name: str) -> None:
    page = _parse(name)
    assert page.references, f"{name} references nothing"
    for reference in page.references:
        assert not re.match(r"^([a-z]+:)?//", reference, re.I), f"{name}: external {reference}"
        assert reference.startswith(("/", "#")), f"{name}: {reference} is not a path of the site"


@pytest.mark.parametrize("name", PAGES)
def test_pages_have_no_inline_script_handlers_or_styles(name: str) -> None:
    page = _parse(name)
    assert page.inline_scripts == [], f"{name}: inline script {page.inline_scripts}"
    assert page.handlers == [], f"{name}: inline handlers {page.handlers}"
    assert page.style_attributes == [], f"{name}: inline styles {page.style_attributes}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_insert_text_never_html(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    for pattern in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert pattern not in text, f"{script.name} uses {pattern}"
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), f"{script.name}: URL"
    modules = re.findall(r"""^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)""", text, re.M)
    modules += re.findall(r"""\bimport\(\s*["']([^"']+)""", text)
    for module in modules:
        assert module.startswith(("./", "/static/")), f"{script.name} imports {module}"


def test_parser_finds_what_the_policy_forbids() -> None:
    """The checks above can fail: a page with each forbidden thing is caught."""
    page = _Page()
    page.feed(
        '<script>alert(1)</script><a href="https://cdn.example/x.js" onclick="x()">'
        '<div style="color:red"></div>'
    )
    assert page.inline_scripts == ["alert(1)"]
    assert page.handlers == ["<a onclick>"]
    assert page.references == ["https://cdn.example/x.js"]
    assert page.style_attributes == ["<div style>"]


def test_every_static_file_is_shipped_by_pip() -> None:
    """Each file of the static folder matches the package data of pyproject.toml."""
    import fnmatch
    import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("run from an installed package: no pyproject.toml")
    patterns = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    package = STATIC.parents[1]
    for path in STATIC.rglob("*"):
        if path.is_file():
            name = path.relative_to(package).as_posix()
            shipped = any(fnmatch.fnmatchcase(name, p) for p in patterns["opensirt"])
            assert shipped, f"{name} is not in pyproject.toml's package-data"
