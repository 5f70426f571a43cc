"""What every command shares: consoles, JSON output, and error-to-exit-code mapping.

Exit codes: 0 success, 1 unexpected error, 2 bad input, 3 plan refused for safety.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from opensirt.errors import InputError, OpenSIRTError, PlanRefusedError
from opensirt.fileio import jsonable
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD, DoseMethod

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3
#: Errors of reading input that OpenSIRT's own checks should have named; kept off the user.
_UNCHECKED_INPUT = (
    UnicodeError,
    csv.Error,
    RecursionError,
    MemoryError,
    ValidationError,
    MarkupError,
)

#: Width (characters) of the output when it goes to a file or a pipe: wide enough that the
#: tables keep long names on one line (rich's default there is 80 columns).
REDIRECTED_WIDTH = 160


def _output_width() -> int | None:
    """The console width: rich's own on a terminal; else :data:`REDIRECTED_WIDTH`, or
    ``COLUMNS`` when that is wider. Table columns fold what does not fit; they never cut
    names."""
    stdout = sys.stdout
    if stdout is not None and stdout.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return max(REDIRECTED_WIDTH, int(columns) if columns.isdigit() else 0)


console = Console(highlight=False, width=_output_width())
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


#: The ``--help`` paragraph of the commands that reuse a saved plan (``verify``, ``assess``).
SAVED_PLAN_HELP = (
    "The plan from the work-up images is reused from the folder of `opensirt plan --out` "
    "(its plan_state.npz; --plan FOLDER, by default the folder plan beside the case file, as "
    "`opensirt demo` writes it) when the case file (all but treatment: and the "
    "post-treatment images), every work-up image and the software versions are those it was "
    "made from; otherwise one line says which input differs and the plan is computed from "
    "the images again.\n"
)
#: ``--dose-method`` of the commands that compute a voxel dose (plan, verify, analytics
#: redose): a name of :class:`~opensirt.physics.dose_methods.DoseMethod`, checked by the
#: command (exit 2 with the accepted names).
DoseMethodOption = Annotated[
    str | None,
    typer.Option(
        "--dose-method",
        metavar="NAME",
        help="Voxel dose method, instead of the case file's dosimetry.method: "
        f"{', '.join(m.value for m in DoseMethod)} (default {DEFAULT_DOSE_METHOD.value}).",
        show_default=False,
    ),
]
#: The help of the ``--plan`` option.
#: ``--dicom-objects/--no-dicom-objects`` of ``opensirt plan`` and ``opensirt verify``.
DicomObjectsOption = Annotated[
    bool,
    typer.Option(
        "--dicom-objects/--no-dicom-objects",
        help="From a DICOM CT, also write the structures (RTSTRUCT, SEG), the dose report "
        "(SR) and the PDF as Encapsulated PDF in the CT's study, beside the RT Dose.",
    ),
]
PLAN_OPTION_HELP = (
    "Folder of `opensirt plan CASE --out FOLDER` whose saved plan to reuse (default: the "
    "folder plan beside the case file, if there is one)."
)
#: The help of the ``--recompute`` option.
RECOMPUTE_HELP = "Compute the plan from the images even where a saved plan matches."


def print_note(note: str | None, *, as_json: bool) -> None:
    """Print one line about the saved plan (reused, or why not): on standard output, or on
    standard error when standard output carries JSON.

    Parameters
    ----------
    note : str or None
        The line; ``None`` prints nothing.
    as_json : bool
        Whether standard output is reserved for JSON.
    """
    if note is not None:
        (err_console if as_json else console).print(f"[bold]Plan:[/] {escape(note)}")


def to_json(obj: Any) -> str:
    """``obj`` as indented JSON text (numpy, enums, dates and paths converted)."""
    return json.dumps(jsonable(obj), indent=2, ensure_ascii=False)


def render(show: Callable[[], None]) -> str:
    """What ``show`` prints on the console, rendered now and returned as text.

    Commands render their output before they write any file, so that nothing is written when
    rendering fails, and print it with :func:`print_rendered` afterwards.
    """
    with console.capture() as captured:
        show()
    return captured.get()


def print_rendered(text: str) -> None:
    """Print text from :func:`render` as it is (it holds no markup any more)."""
    console.file.write(text)
    console.file.flush()


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON on standard output, nothing else."""
    typer.echo(to_json(obj))


def _os_message(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else "a file"
    return f"{where}: {exc.strerror or exc} (errno {exc.errno})"


@contextmanager
def exit_codes() -> Iterator[None]:
    """Turn OpenSIRT errors into a message on stderr and the documented exit code.

    Input that OpenSIRT's own checks missed still gets a one-line message and exit 2, never
    a traceback: a file-system error names the path and the system's reason; a decoding,
    CSV, nesting, memory or validation error names its kind. Messages are printed without
    markup, so a name such as ``[/bold]`` is shown as written.
    """
    try:
        yield
    except PlanRefusedError as exc:
        err_console.print(f"[bold red]Plan refused:[/] {escape(exc.reason)}")
        raise typer.Exit(EXIT_REFUSED) from exc
    except InputError as exc:
        err_console.print(f"[bold red]Error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    except OpenSIRTError as exc:
        err_console.print(f"[bold red]Error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_ERROR) from exc
    except OSError as exc:
        err_console.print(f"[bold red]Error:[/] {escape(_os_message(exc))}")
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    except _UNCHECKED_INPUT as exc:
        kind = type(exc).__name__
        err_console.print(
            f"[bold red]Error:[/] the input could not be read ({kind}: "
            f"{escape(str(exc)[:300])}); check the files given"
        )
        raise typer.Exit(EXIT_BAD_INPUT) from exc


@contextmanager
def progress_display(enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A rich progress display; yields a callback that starts the next step."""
    if not enabled:
        yield lambda _: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        current: list[TaskID] = []

        def step(text: str) -> None:
            if current:
                bar.update(current[0], completed=1, total=1)
            current[:] = [bar.add_task(text, total=None)]

        yield step
        if current:
            bar.update(current[0], completed=1, total=1)
