"""The analysis plan: a TOML file read with the standard library, validated up front."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .contract import FACTORS, INTERACTION, EFFECT_OUTCOMES
from .errors import AnalysisInputError

DEFAULT_PLAN = Path(__file__).with_name("default_plan.toml")


@dataclass(frozen=True)
class Plan:
    """A parsed analysis plan (see ``default_plan.toml`` for every field)."""

    name: str
    path: str
    sha256: str
    alpha: float
    numeric_covariates: tuple[str, ...]
    categorical_covariates: tuple[str, ...]
    sesoi: float
    ri_draws: int
    ri_seed: int
    confirmatory: tuple[tuple[str, str, str], ...]  # (hypothesis, outcome, factor)
    exploratory_estimators: tuple[str, ...]
    sensitivity_exclusions: tuple[str, ...]
    raw: dict = field(repr=False, default_factory=dict)

    def is_confirmatory(self, outcome: str, factor: str) -> bool:
        """Whether the plan lists this outcome x factor pair as confirmatory.

        Parameters
        ----------
        outcome : str
            An outcome scale.
        factor : str
            ``manager``, ``partner`` or ``manager:partner``.
        """
        return any(o == outcome and f == factor for _, o, f in self.confirmatory)


def load_plan(path: str | Path | None = None) -> Plan:
    """Read and check an analysis plan.

    Parameters
    ----------
    path : str or Path, optional
        A TOML plan; the shipped default (INSTRUMENT.md section 8) when omitted.

    Returns
    -------
    Plan
    """
    p = Path(path) if path is not None else DEFAULT_PLAN
    try:
        data = p.read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise AnalysisInputError(p, "plan file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AnalysisInputError(p, f"not a valid TOML plan ({exc})") from None
    try:
        conf = tuple((str(c.get("hypothesis", "")), str(c["outcome"]), str(c["factor"]))
                     for c in raw.get("confirmatory", []))
        cov = raw.get("covariates", {})
        ri = raw.get("randomisation_inference", {})
        plan = Plan(
            name=str(raw.get("name", p.stem)),
            path=str(p),
            sha256=hashlib.sha256(data).hexdigest(),
            alpha=float(raw.get("alpha", 0.05)),
            numeric_covariates=tuple(cov.get("numeric", [])),
            categorical_covariates=tuple(cov.get("categorical", [])),
            sesoi=float(raw.get("equivalence", {}).get("sesoi", 0.4)),
            ri_draws=int(ri.get("draws", 2000)),
            ri_seed=int(ri.get("seed", 1)),
            confirmatory=conf,
            exploratory_estimators=tuple(raw.get("exploratory", {}).get(
                "estimators", ["difference_in_means", "factorial", "block_weighted"])),
            sensitivity_exclusions=tuple(raw.get("sensitivity", {}).get("exclude_failed", [])),
            raw=raw,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnalysisInputError(p, f"plan entry missing or malformed ({exc})") from None
    for _, outcome, factor in plan.confirmatory:
        if outcome not in EFFECT_OUTCOMES:
            raise AnalysisInputError(p, f"unknown outcome {outcome!r} in confirmatory family")
        if factor not in (*FACTORS, INTERACTION):
            raise AnalysisInputError(p, f"unknown factor {factor!r} in confirmatory family")
    if not 0 < plan.alpha < 1 or plan.sesoi <= 0 or plan.ri_draws < 0:
        raise AnalysisInputError(p, "alpha must be in (0, 1), sesoi > 0 and draws >= 0")
    return plan
