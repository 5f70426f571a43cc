"""No module of ``opensirt`` imports another module's private names.

A name with a leading underscore is private to its module: another module that needs it
needs a public, documented function instead (``from opensirt.planning.assemble import
_constants`` was how the voxel plan once shared the plan builder). Private *modules* of a
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


def private_imports(source: str, module: str) -> list[str]:
    """Each ``from opensirt.x import _name`` in ``source`` where x is not ``module`` itself."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("opensirt") or node.module == module:
                continue
            found += [
                f"{module}:{node.lineno} imports {node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
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
