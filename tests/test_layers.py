"""The import contract: no module of ``opensirt`` imports a higher layer.

The layers are written once, here, in :data:`LAYERS` (the README's "Architecture" section
describes them). Each layer names the layers it builds on directly; a module may import its
own layer and everything below it, transitively, and nothing else. Two layers neither of which
is below the other (``physics`` and ``patient``, ``imaging`` and ``planning``, ``report`` and
``exports``) may not import each other.

Every import statement counts, wherever it stands: at module level, inside a function (the
command modules import lazily), or under ``if TYPE_CHECKING:``. Every module of the package
must belong to a layer, so a new subpackage fails here until it is placed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

# layer -> the layers it builds on directly, lowest layer first
LAYERS: dict[str, tuple[str, ...]] = {
    # utilities every layer may use: errors.py, _threads.py, fileio.py, the package's version
    "base": (),
    "physics": ("base",),  # nuclides, decay, devices
    "patient": ("base",),  # the patient's labs and clinical findings
    "planning": ("physics", "patient"),
    # clinical builds on planning: clinical.assess plans the case for the lung dose of the
    # planned activity that the eligibility rules check
    "clinical": ("planning",),
    "imaging": ("physics",),  # volumes, readers, writers, registration
    "dosimetry": ("imaging",),
    "workflow": ("clinical", "dosimetry"),  # ties the case and the images together
    "report": ("workflow",),
    "exports": ("workflow",),
    # the pathway record: models, migrations, recording, import/export, the pathway summary
    "registry": ("report", "exports"),
    # the demo's synthetic patient and cohort: phantom, its DICOM, its case files, the
    # synthetic registry; the library never imports it
    "demo": ("registry",),
    # cohort analytics: the cohort table (from a file or the registry), response, survival,
    # dose-response, pooled evidence, re-dosimetry and the cohort report; its examples use
    # the demo's synthetic cohort
    "analytics": ("demo",),
    # PACS networking (DIMSE, DICOMweb), the series cache, a case's PACS images resolved
    "pacs": ("demo",),
    # the web service: the registry over HTTP; it may use the demo for `opensirt serve --demo`
    "api": ("analytics", "pacs"),
    "commands": ("api",),  # commands/, cli.py, __main__.py
}

# modules directly in src/opensirt/ (not in a subpackage) and their layer
TOP_LEVEL_MODULES: dict[str, str] = {
    "opensirt": "base",  # __init__.py: the version
    "opensirt.errors": "base",
    "opensirt._threads": "base",
    "opensirt.fileio": "base",
    "opensirt.cli": "commands",
    "opensirt.__main__": "commands",
}

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "src" / "opensirt"


def _below(layer: str) -> set[str]:
    """The layers ``layer`` may import: itself and all it builds on, transitively."""
    allowed = {layer}
    for lower in LAYERS[layer]:
        allowed |= _below(lower)
    return allowed


def _module_name(path: Path) -> str:
    parts = ("opensirt", *path.relative_to(PACKAGE_DIR).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def layer_of(module: str) -> str:
    """The layer of a module of ``opensirt`` (``KeyError`` if it has none)."""
    if module in TOP_LEVEL_MODULES:
        return TOP_LEVEL_MODULES[module]
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        raise KeyError(module)
    return parts[1]


def imported_modules(module: str) -> list[tuple[int, str]]:
    """The ``opensirt`` modules that ``module`` imports, with the line of each import.

    Relative imports are resolved; ``from package import name`` counts as importing
    ``package.name`` where that is a module.
    """
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                found.append((node.lineno, candidate if candidate in MODULES else source))
    return sorted({(line, name) for line, name in found if name.split(".")[0] == "opensirt"})


def test_the_layers_form_a_hierarchy() -> None:
    for layer, lower in LAYERS.items():
        assert set(lower) <= LAYERS.keys(), f"{layer} builds on an unknown layer"
        assert layer not in set().union(*(_below(x) for x in lower)), f"{layer} is in a cycle"


def test_every_module_has_a_layer() -> None:
    unplaced = []
    for module in MODULES:
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert not unplaced, f"place these modules in LAYERS or TOP_LEVEL_MODULES: {unplaced}"


def test_no_module_imports_a_higher_layer() -> None:
    violations = []
    for module, path in MODULES.items():
        layer = layer_of(module)
        for line, target in imported_modules(module):
            target_layer = layer_of(target)
            if target_layer not in _below(layer):
                rel = path.relative_to(PACKAGE_DIR.parent)
                violations.append(f"{rel}:{line} ({layer}) imports {target} ({target_layer})")
    assert not violations, "imports against the layers:\n" + "\n".join(violations)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from opensirt.workflow.inputs import x", ["opensirt.workflow.inputs"]),
        ("from ..workflow import inputs", ["opensirt.workflow.inputs"]),
        ("from . import volume", ["opensirt.imaging.volume"]),
        ("import opensirt.planning.case", ["opensirt.planning.case"]),
        ("def f():\n    from opensirt.report import pdf", ["opensirt.report.pdf"]),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from opensirt import cli",
            ["opensirt.cli"],
        ),
        ("import numpy", []),
    ],
)
def test_imports_are_found_wherever_they_stand(
    source: str, expected: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract sees relative, nested and type-checking imports (a module of imaging)."""
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, "opensirt.imaging.probe", path)
    assert [name for _, name in imported_modules("opensirt.imaging.probe")] == expected


def test_a_lower_layer_importing_a_higher_one_is_caught() -> None:
    assert "workflow" not in _below(layer_of("opensirt.imaging.volume"))
    assert "clinical" not in _below(layer_of("opensirt.planning.case"))
    assert "exports" not in _below(layer_of("opensirt.report.pdf"))
    assert "patient" not in _below(layer_of("opensirt.physics.devices"))
    assert "commands" in _below(layer_of("opensirt.cli"))
