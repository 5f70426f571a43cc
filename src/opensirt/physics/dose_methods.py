"""The names of the voxel dose methods, shared by the case file, dosimetry and the reports.

:class:`DoseMethod` names every way OpenSIRT computes an absorbed-dose map from an activity
map (:func:`opensirt.dosimetry.absorbed_dose` computes them); :data:`DEFAULT_DOSE_METHOD` is
the one used when a case file or a command does not choose. The names live in the physics
layer so that the case file (planning) and the dosimetry can both see them.

Abbreviations: LDM, SK, SKD and MC are those of Mikell et al. 2015 [MIKELL2015]_ (local
deposition, soft-tissue kernel, soft-tissue kernel with density correction, Monte Carlo).
The range-scaled kernel follows O'Connor's scaling theorem [OCONNOR1957]_ (RSK here); the
path-length method scales the water kernel by the water-equivalent (radiological) distance
between voxels (PLK here), as in the heterogeneity corrections compared by Dieudonné et al.
2013 [DIEUDONNE2013]_.

References
----------
.. [MIKELL2015] Mikell JK, Mahvash A, Siman W et al. Comparing voxel-based absorbed dosimetry
   methods in tumors, liver, lung, and at the liver-lung interface for 90Y microsphere
   selective internal radiation therapy. EJNMMI Phys 2015;2:16.
   doi:10.1186/s40658-015-0119-y
.. [OCONNOR1957] O'Connor JE. The variation of scattered X-rays with density in an irradiated
   body. Phys Med Biol 1957;1:352-369. doi:10.1088/0031-9155/1/4/305
.. [DIEUDONNE2013] Dieudonné A, Hobbs RF, Lebtahi R et al. Study of the impact of tissue
   density heterogeneities on 3-dimensional abdominal dosimetry: comparison between dose
   kernel convolution and direct Monte Carlo methods. J Nucl Med 2013;54:236-243.
   doi:10.2967/jnumed.112.105825
"""

from __future__ import annotations

from enum import StrEnum


class DoseMethod(StrEnum):
    """A voxel dose method, by its case-file and command-line name.

    Examples
    --------
    >>> DoseMethod("kernel-mass").abbreviation
    'SKD'
    >>> DoseMethod.LOCAL_DEPOSITION.description
    'local deposition: all beta energy absorbed in the voxel of decay'
    """

    LOCAL_DEPOSITION = "local-deposition"
    SOFT_TISSUE_KERNEL = "soft-tissue-kernel"
    KERNEL_MASS = "kernel-mass"
    KERNEL_RANGE = "kernel-range"
    PATH_LENGTH = "path-length"
    MONTE_CARLO = "monte-carlo"

    @property
    def abbreviation(self) -> str:
        """The method's short name in the literature (see the module notes)."""
        return _ABBREVIATIONS[self]

    @property
    def description(self) -> str:
        """One line on what the method does, for reports."""
        return _DESCRIPTIONS[self]

    @property
    def label(self) -> str:
        """Name, abbreviation and description in one line, e.g. for a report's caption."""
        return f"{self.value} ({self.abbreviation}): {self.description}"


_ABBREVIATIONS = {
    DoseMethod.LOCAL_DEPOSITION: "LDM",
    DoseMethod.SOFT_TISSUE_KERNEL: "SK",
    DoseMethod.KERNEL_MASS: "SKD",
    DoseMethod.KERNEL_RANGE: "RSK",
    DoseMethod.PATH_LENGTH: "PLK",
    DoseMethod.MONTE_CARLO: "MC",
}

_DESCRIPTIONS = {
    DoseMethod.LOCAL_DEPOSITION: "local deposition: all beta energy absorbed in the voxel of decay",
    DoseMethod.SOFT_TISSUE_KERNEL: "soft-tissue dose kernel, soft-tissue mass everywhere",
    DoseMethod.KERNEL_MASS: "soft-tissue dose kernel, dose over each voxel's CT mass",
    DoseMethod.KERNEL_RANGE: (
        "dose kernel range-scaled to the source voxel's CT density, over each voxel's CT mass"
    ),
    DoseMethod.PATH_LENGTH: (
        "soft-tissue dose kernel scaled by the CT path length (radiological distance) "
        "between voxels"
    ),
    DoseMethod.MONTE_CARLO: "Monte Carlo electron and photon transport in the CT densities",
}

#: The method used when a case file or a command does not choose one: the most accurate
#: method that meets the speed goal (within 5 % of the Monte Carlo at lung and bone
#: interfaces, at most 3x the time of the mass-corrected kernel; docs/dosimetry.md).
DEFAULT_DOSE_METHOD = DoseMethod.PATH_LENGTH
