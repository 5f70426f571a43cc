"""No module of ``opensirt`` imports another module's private names.

A name with a leading underscore is private to its module (imported by name, or used as
``module._name``): another module that needs it needs a public, documented function instead
(``from opensirt.planning.assemble import _constants`` was how the voxel plan once shared the
plan builder). Private *modules* of a
package (``opensirt.commands._common``) may be imported for their public names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import opensirt

SOURCE = Path(opensirt.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    path = SOURCE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def private_imports(source: str, module: str) -> list[str]:
    """Each ``from opensirt.x import _name`` in ``source`` where x is not ``module`` itself,
    and each ``alias._name`` where ``alias`` is another opensirt module imported by name."""
    tree = ast.parse(source)
    found: list[str] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {
                alias.asname: alias.name
                for alias in node.names
                if alias.asname and alias.name.startswith("opensirt")
            }
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if not node.module.startswith("opensirt") or node.module == module:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(f"{module}:{node.lineno} imports {node.module}.{alias.name}")
            elif _is_module(f"{node.module}.{alias.name}"):
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and aliases[node.value.id] != module
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    offences = []
    for path in sorted(SOURCE.rglob("*.py")):
        offences += private_imports(path.read_text(encoding="utf-8"), _module_name(path))
    assert not offences, "\n".join(offences)


def test_the_check_finds_a_private_import() -> None:
    source = (
        "from opensirt.planning.assemble import _constants, refused_plan\n"
        "from opensirt.commands._common import to_json\n"
        "from opensirt.planning.voxel import __doc__\n"
    )
    assert private_imports(source, "opensirt.planning.voxel") == [
        "opensirt.planning.voxel:1 imports opensirt.planning.assemble._constants"
    ]
    assert private_imports(source, "opensirt.planning.assemble") == []


def test_the_check_finds_a_private_name_used_through_a_module() -> None:
    source = (
        "from opensirt.planning import plausibility as pl\n"
        "import opensirt.planning.assemble as assemble\n"
        "x = pl._hidden + pl.NAME_MAX_CHARS + assemble._constants\n"
    )
    assert sorted(private_imports(source, "opensirt.planning.case")) == [
        "opensirt.planning.case:3 uses opensirt.planning.assemble._constants",
        "opensirt.planning.case:3 uses opensirt.planning.plausibility._hidden",
    ]
