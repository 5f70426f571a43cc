"""The IAEA phase-space writer of the independent Monte Carlo check (no ompMC needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dosimetry.iaea_phsp import write_iaea_phsp


def test_records_follow_the_iaea_layout(tmp_path: Path) -> None:
    """25-byte records: signed type (sign of w), -E (new history), x y z u v; header agrees."""
    direction = np.array([[0.6, 0.0, -0.8], [0.0, 0.6, 0.8]])
    position = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    write_iaea_phsp(tmp_path / "src", position, direction, np.array([0.5, 1.5]))
    raw = (tmp_path / "src.IAEAphsp").read_bytes()
    assert len(raw) == 2 * 25
    record = np.frombuffer(raw, dtype=np.dtype("i1,<f4,<f4,<f4,<f4,<f4,<f4"))
    assert record["f0"].tolist() == [-2, 2]
    assert record["f1"].tolist() == [-0.5, -1.5]
    assert record["f2"].tolist() == [1.0, 4.0]
    np.testing.assert_allclose(record["f5"], [0.6, 0.0])
    header = (tmp_path / "src.IAEAheader").read_text()
    for block in (
        "$RECORD_LENGTH:\n25\n",
        "$CHECKSUM:\n50\n",
        "$PARTICLES:\n2\n",
        "$BYTE_ORDER:\n1234\n",
    ):
        assert block in header
