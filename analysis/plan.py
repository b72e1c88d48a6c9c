"""The analysis plan: a TOML file read with the standard library, validated up front."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import registry
from .contract import CHECK_SCALES, FACTORS, INTERACTION, OUTCOME_SCALES
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
    sesoi_sd: float  # smallest effect size of interest, in outcome SDs
    ri_draws: int
    ri_seed: int
    confirmatory: tuple[tuple[str, str, str], ...]  # (hypothesis, outcome, factor)
    sensitivity_exclusions: tuple[str, ...]
    #: scope ('pooled', 'per_programme') -> primary estimators in order of preference
    primary: dict = field(default_factory=lambda: dict(registry.DEFAULT_PRIMARY))
    raw: dict = field(repr=False, default_factory=dict)

    def is_confirmatory(self, outcome: str, factor: str) -> bool:
        """Whether ``outcome`` x ``factor`` is in the confirmatory family.

        Parameters
        ----------
        outcome : str
            An outcome scale.
        factor : str
            ``manager``, ``partner`` or the interaction.
        """
        return any(o == outcome and f == factor for _, o, f in self.confirmatory)

    def primary_estimator(self, programme: str, factor: str | None = None) -> str:
        """The estimator a hypothesis is counted by in its family, for a row's scope.

        Parameters
        ----------
        programme : str
            ``pooled`` or a programme.
        factor : str, optional
            The effect (the interaction per programme has no difference in means).
        """
        return registry.primary_for(programme, self.primary, factor)


def load_plan(path: str | Path | None = None) -> Plan:
    """Read and check an analysis plan.

    Parameters
    ----------
    path : str or Path, optional
        A TOML plan; the shipped default (``analysis/default_plan.toml``) when omitted.

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
        eq = raw.get("equivalence", {})
        if "sesoi" in eq and "sesoi_sd" not in eq:
            raise AnalysisInputError(p, "equivalence.sesoi (scale points) is now sesoi_sd, in "
                                     "outcome SDs (the report converts it with the observed SD)")
        fam = raw.get("families", {})
        primary = {}
        for scope, key in ((registry.POOLED, "primary_pooled"),
                           (registry.PER_PROGRAMME, "primary_per_programme")):
            v = fam.get(key, registry.DEFAULT_PRIMARY[scope])
            primary[scope] = (v,) if isinstance(v, str) else tuple(str(x) for x in v)
        plan = Plan(
            name=str(raw.get("name", p.stem)),
            path=str(p),
            sha256=hashlib.sha256(data).hexdigest(),
            alpha=float(raw.get("alpha", 0.05)),
            numeric_covariates=tuple(cov.get("numeric", [])),
            categorical_covariates=tuple(cov.get("categorical", [])),
            sesoi_sd=float(eq.get("sesoi_sd", 0.4)),
            ri_draws=int(ri.get("draws", 2000)),
            ri_seed=int(ri.get("seed", 1)),
            confirmatory=conf,
            sensitivity_exclusions=tuple(raw.get("sensitivity", {}).get("exclude_failed", [])),
            primary=primary,
            raw=raw,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnalysisInputError(p, f"plan entry missing or malformed ({exc})") from None
    for scope, chosen in plan.primary.items():
        for name in chosen:
            e = registry.ESTIMATORS.get(name)
            if e is None or e.scope != scope or e.role != registry.PRIMARY:
                raise AnalysisInputError(p, f"families: {name!r} is not a registered {scope.replace('_', ' ')} "
                                         f"estimator that can be primary (choose from "
                                         f"{', '.join(registry.names(scope, registry.PRIMARY))})")
    for _, outcome, factor in plan.confirmatory:
        if outcome in CHECK_SCALES:
            raise AnalysisInputError(p, f"{outcome!r} is a manipulation check since instrument 2026.2, "
                                     "not an outcome of a confirmatory family")
        if outcome not in OUTCOME_SCALES:
            raise AnalysisInputError(p, f"unknown outcome {outcome!r} in confirmatory family")
        if factor not in (*FACTORS, INTERACTION):
            raise AnalysisInputError(p, f"unknown factor {factor!r} in confirmatory family")
    if not 0 < plan.alpha < 1 or plan.sesoi_sd <= 0 or plan.ri_draws < 0:
        raise AnalysisInputError(p, "alpha must be in (0, 1), sesoi_sd > 0 and draws >= 0")
    return plan
