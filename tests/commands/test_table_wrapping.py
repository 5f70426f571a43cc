"""Terminal tables never cut a name: output to a file or a pipe is wide (long names stay on
one line), and what does not fit a narrow terminal is folded onto the next line."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.commands.plan import _dose_table, _territory_table
from opensirt.planning import parse_case, plan_case

runner = CliRunner()
TUMOUR = "segment VIII hepatocellular carcinoma, posterior, by the IVC"
TERRITORY = "right_posterior_sector_segments_VI_and_VII_via_the_RPHA_branch"


def _case() -> dict[str, Any]:
    return {
        "opensirt_case": 1,
        "patient": {"id": "TEST-001", "height_m": 1.75, "weight_kg": 80},
        "device": "sir-spheres",
        "method": "partition",
        "lung": {"shunt_fraction": 0.08},
        "liver": {"volume_ml": 1500},
        "territories": [
            {
                "name": TERRITORY,
                "volume_ml": 1000,
                "tumours": [{"name": TUMOUR, "volume_ml": 150, "tn_ratio": 4.0}],
            },
            {
                "name": "left lobe",
                "volume_ml": 400,
                "tumours": [{"name": "T3", "volume_ml": 40, "tn_ratio": 5.0}],
            },
        ],
    }


def test_long_names_appear_whole_when_the_output_is_not_a_terminal(tmp_path: Path) -> None:
    assert len(TUMOUR) == 60
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(_case(), sort_keys=False))
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    assert f"tumour {TUMOUR}" in result.stdout
    assert TERRITORY in result.stdout
    assert "…" not in result.stdout


def test_a_narrow_terminal_folds_names_instead_of_cutting_them() -> None:
    result = plan_case(parse_case(_case()))
    out = io.StringIO()
    narrow = Console(width=60, file=out)
    narrow.print(_dose_table(result))
    narrow.print(_territory_table(result))
    text = out.getvalue()
    assert "…" not in text
    # every character of the names is there, folded over several lines of the first column
    first_column = "".join(
        line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")
    )
    assert TUMOUR.replace(" ", "") in first_column.replace(" ", "")
    assert TERRITORY in first_column
