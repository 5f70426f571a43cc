"""Every public function and method of ``opensirt`` has a numpydoc docstring.

numpydoc's own validator checks each one: a docstring exists (GL08), every parameter is
documented and no documented parameter is missing from the signature (PR01, PR02), and a
function that returns or yields something says what (RT01, YD01). Units are written in the
parameter descriptions (house style); no validator can check that, review does.

Public means: a module whose name has no leading underscore, a function, class or method whose
name has none, defined in that module (not imported into it). The command-line callbacks of
``opensirt.commands`` are exempt: their docstring is the command's ``--help`` text and each
option documents itself through ``typer.Option(help=...)``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from numpydoc.validate import validate

import opensirt

#: numpydoc's checks that every public function must pass
REQUIRED_CHECKS = frozenset({"GL08", "PR01", "PR02", "RT01", "YD01"})


def _public_modules() -> list[str]:
    names = ["opensirt"]
    for info in pkgutil.walk_packages(opensirt.__path__, prefix="opensirt."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return sorted(names)


def _is_cli_callback(function: Callable[..., Any]) -> bool:
    """A typer command: its parameters' defaults or annotations carry typer's option info."""
    import typer.models

    try:  # string annotations (``from __future__ import annotations``) hold the option info
        parameters = inspect.signature(function, eval_str=True).parameters.values()
    except NameError:  # an annotation that names a type imported for type checking only
        parameters = inspect.signature(function).parameters.values()
    infos = (typer.models.OptionInfo, typer.models.ArgumentInfo)
    for p in parameters:
        metadata = getattr(p.annotation, "__metadata__", ())
        if isinstance(p.default, infos) or any(isinstance(m, infos) for m in metadata):
            return True
    return False


def _own(module: Any, name: str, obj: object) -> bool:
    return not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__


def _public_callables(module_name: str) -> Iterator[str]:
    """Dotted names of the public functions and methods defined in ``module_name``."""
    module = importlib.import_module(module_name)
    for name, obj in vars(module).items():
        if not _own(module, name, obj):
            continue
        if inspect.isfunction(obj):
            if module_name.startswith("opensirt.commands") and _is_cli_callback(obj):
                continue
            yield f"{module_name}.{name}"
        elif inspect.isclass(obj):
            for member_name, member in vars(obj).items():
                if member_name.startswith("_"):
                    continue
                function = (
                    member.__func__ if isinstance(member, classmethod | staticmethod) else member
                )
                if inspect.isfunction(function) and function.__qualname__.startswith(
                    obj.__qualname__
                ):
                    yield f"{module_name}.{name}.{member_name}"


def _failures(module_name: str) -> list[str]:
    out = []
    for qualified in _public_callables(module_name):
        errors = [(code, message) for code, message in validate(qualified)["errors"]]
        out.extend(
            f"{qualified}: {code} {message}" for code, message in errors if code in REQUIRED_CHECKS
        )
    return out


@pytest.mark.parametrize("module_name", _public_modules())
def test_public_functions_have_numpydoc_docstrings(module_name: str) -> None:
    failures = _failures(module_name)
    assert not failures, "\n".join(failures)


def test_the_checker_reports_what_is_missing(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check can fail: undocumented parameters and returns are reported, a full one is not."""
    (tmp_path / "docstring_examples.py").write_text(
        '''
def documented(dose_gy: float) -> float:
    """Twice the dose.

    Parameters
    ----------
    dose_gy : float
        Absorbed dose (Gy).

    Returns
    -------
    float
        Twice ``dose_gy`` (Gy).
    """
    return 2 * dose_gy


def undocumented(dose_gy: float) -> float:
    """Twice the dose."""
    return 2 * dose_gy
'''
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _failures("docstring_examples") == [
        "docstring_examples.undocumented: PR01 Parameters {'dose_gy'} not documented",
        "docstring_examples.undocumented: RT01 No Returns section found",
    ]
