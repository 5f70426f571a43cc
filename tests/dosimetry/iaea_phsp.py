"""Writing IAEA phase-space files (Capote et al. 2006, IAEA INDC(NDS)-0484) of electrons.

The format is a pair of files: ``name.IAEAheader`` (ASCII ``$KEYWORD:`` blocks saying what a
record holds) and ``name.IAEAphsp`` (little-endian binary records). Written here: one
electron per history, x y z u v stored (w from u, v and the sign of the particle type),
weight constant 1, no extra floats or longs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

_RECORD = np.dtype(
    [("type", "i1"), ("e", "<f4"), ("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("u", "<f4"),
     ("v", "<f4")]
)  # fmt: skip
_ELECTRON = 2  # IAEA particle code; its sign carries the sign of w


def write_iaea_phsp(
    base: Path,
    position_cm: npt.NDArray[np.float64],
    direction: npt.NDArray[np.float64],
    kinetic_mev: npt.NDArray[np.float64],
) -> None:
    """Write electrons as an IAEA phase space (``base.IAEAheader`` + ``base.IAEAphsp``).

    Record (little endian, Capote et al. 2006, IAEA INDC(NDS)-0484): signed particle type
    (sign = sign of w), energy (negative: first particle of a new history), x, y, z (cm), u, v;
    w is implied, the weight is a header constant (1).

    Parameters
    ----------
    base : pathlib.Path
        Path without extension.
    position_cm : numpy.ndarray
        (n, 3) x, y, z in cm.
    direction : numpy.ndarray
        (n, 3) unit vectors.
    kinetic_mev : numpy.ndarray
        (n,) kinetic energies, MeV.
    """
    records = np.zeros(len(kinetic_mev), dtype=_RECORD)
    records["type"] = np.where(direction[:, 2] < 0.0, -_ELECTRON, _ELECTRON)
    records["e"] = -kinetic_mev
    records["x"], records["y"], records["z"] = position_cm.T
    records["u"], records["v"] = direction[:, 0], direction[:, 1]
    records.tofile(base.with_suffix(".IAEAphsp"))
    n, length = len(records), _RECORD.itemsize
    blocks = {
        "TITLE": "OpenSIRT internal isotropic beta source",
        "FILE_TYPE": "0",
        "CHECKSUM": str(n * length),
        "RECORD_CONTENTS": "1\n1\n1\n1\n1\n1\n0\n0\n0",  # x y z u v w stored, weight constant
        "RECORD_CONSTANT": "1.0",
        "RECORD_LENGTH": str(length),
        "BYTE_ORDER": "1234",
        "ORIG_HISTORIES": str(n),
        "PARTICLES": str(n),
        "ELECTRONS": str(n),
    }
    text = "".join(f"${key}:\n{value}\n" for key, value in blocks.items())
    base.with_suffix(".IAEAheader").write_text(text)
