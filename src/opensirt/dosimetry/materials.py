"""Media of the electron transport: elemental composition, mean excitation energy and
Sternheimer density-effect parameters.

Every quantity the transport needs per unit mass (electrons per gram ``Z/A``, the
bremsstrahlung sum ``sum w Z(Z+1)/A``, atoms of each element per gram for elastic scattering)
is derived here from the composition by mass, so that a medium is defined by its primary
data only:

* water (liquid): H2O; ``I = 75 eV`` (ICRU Report 37, 1984); density-effect parameters
  ``-C = 3.5017, X0 = 0.2400, X1 = 2.8004, a = 0.09116, m = 3.4773``;
* ICRU soft tissue (four-component, ICRU Report 33, 1980, and ICRU Report 37; the
  composition of NIST ESTAR, https://physics.nist.gov/PhysRefData/Star/Text/ESTAR.html):
  H 10.1172 %, C 11.1000 %, N 2.6000 %, O 76.1828 % by mass, ``I = 74.9 eV``,
  ``Z/A = 0.54975``, ``-C = 3.5087, X0 = 0.2377, X1 = 2.7908, a = 0.09629, m = 3.4371``.

Density-effect parameters: Sternheimer, Berger & Seltzer 1984, At Data Nucl Data Tables
30:261, doi:10.1016/0092-640X(84)90002-0 (computed there at 1 g/cm^3; at 1.04 g/cm^3 the
density-effect correction would be larger by at most ``ln 1.04 = 0.04``, 0.2 % of the
stopping power at 2 MeV and less below, which is neglected). Atomic masses: IUPAC 2013
standard atomic weights (doi:10.1515/pac-2015-0305).
"""

from __future__ import annotations

from dataclasses import dataclass

from opensirt.errors import InputError

#: Standard atomic weights, g/mol (IUPAC 2013, conventional values).
ATOMIC_MASS_G_PER_MOL = {1: 1.008, 6: 12.011, 7: 14.007, 8: 15.999}


@dataclass(frozen=True)
class Sternheimer:
    """Sternheimer density-effect parameters of a medium (Sternheimer, Berger & Seltzer 1984).

    ``delta = 4.6052 X - C + a (X1 - X)^m`` for ``X0 <= X < X1``, ``4.6052 X - C`` above
    ``X1`` and 0 below ``X0`` (conductors excluded), with ``X = log10(p / m c)``.

    Attributes
    ----------
    minus_c : float
        ``-C`` (dimensionless, positive).
    x0, x1 : float
        Limits of the intermediate region (log10 of momentum in units of m c).
    a, m : float
        Shape parameters of the intermediate region.
    """

    minus_c: float
    x0: float
    x1: float
    a: float
    m: float


@dataclass(frozen=True)
class Material:
    """A medium of the electron transport, defined by its composition by mass.

    Attributes
    ----------
    name : str
        Human name (written into the kernel files).
    composition : tuple of (int, float)
        ``(Z, mass fraction)`` of each element; the fractions sum to 1.
    mean_excitation_ev : float
        Mean excitation energy ``I`` (eV).
    sternheimer : Sternheimer
        Density-effect parameters.

    Raises
    ------
    InputError
        If the mass fractions do not sum to 1 (within 1e-4), an element has no tabulated
        atomic mass, or ``I`` is not positive.
    """

    name: str
    composition: tuple[tuple[int, float], ...]
    mean_excitation_ev: float
    sternheimer: Sternheimer

    def __post_init__(self) -> None:
        total = sum(w for _, w in self.composition)
        if abs(total - 1.0) > 1e-4 or any(w <= 0 for _, w in self.composition):
            raise InputError(
                f"composition of {self.name} has mass fractions summing to {total:.6f}, "
                "expected positive fractions summing to 1"
            )
        missing = [z for z, _ in self.composition if z not in ATOMIC_MASS_G_PER_MOL]
        if missing:
            raise InputError(
                f"composition of {self.name} has elements Z={missing} without an atomic "
                f"mass, expected Z in {sorted(ATOMIC_MASS_G_PER_MOL)}"
            )
        if not self.mean_excitation_ev > 0:
            raise InputError(
                f"mean_excitation_ev is {self.mean_excitation_ev}, expected a positive energy"
            )

    @property
    def mean_excitation_mev(self) -> float:
        """Mean excitation energy ``I`` in MeV."""
        return self.mean_excitation_ev * 1e-6

    @property
    def z_over_a(self) -> float:
        """Electrons per unit mass, ``<Z/A> = sum w Z / A`` (mol/g).

        Examples
        --------
        >>> round(WATER.z_over_a, 4), round(ICRU_SOFT_TISSUE.z_over_a, 4)
        (0.5551, 0.5497)
        """
        return sum(w * z / ATOMIC_MASS_G_PER_MOL[z] for z, w in self.composition)

    @property
    def moles_per_gram(self) -> tuple[tuple[int, float], ...]:
        """``(Z, w / A)``: moles of atoms of each element per gram (mol/g)."""
        return tuple((z, w / ATOMIC_MASS_G_PER_MOL[z]) for z, w in self.composition)

    @property
    def z_z1_over_a(self) -> float:
        """``sum w Z (Z + 1) / A`` (mol/g): nuclear plus atomic-electron bremsstrahlung and
        elastic-scattering strength per unit mass."""
        return sum(n * z * (z + 1) for z, n in self.moles_per_gram)


_H_WATER = 2 * ATOMIC_MASS_G_PER_MOL[1] / (2 * ATOMIC_MASS_G_PER_MOL[1] + ATOMIC_MASS_G_PER_MOL[8])

#: Liquid water (ICRU Report 37; Sternheimer, Berger & Seltzer 1984).
WATER = Material(
    "liquid water",
    ((1, _H_WATER), (8, 1.0 - _H_WATER)),
    75.0,
    Sternheimer(3.5017, 0.2400, 2.8004, 0.09116, 3.4773),
)

#: ICRU four-component soft tissue (ICRU Reports 33 and 37; NIST ESTAR composition;
#: Sternheimer, Berger & Seltzer 1984).
ICRU_SOFT_TISSUE = Material(
    "ICRU four-component soft tissue",
    ((1, 0.101172), (6, 0.111000), (7, 0.026000), (8, 0.761828)),
    74.9,
    Sternheimer(3.5087, 0.2377, 2.7908, 0.09629, 3.4371),
)
