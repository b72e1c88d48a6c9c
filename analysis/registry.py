"""Estimators by name, once: each estimator's function, scope, role and description.

``effects`` runs every registered estimator, the plan's families pick each hypothesis's
primary estimator from here, and the pre-registration, the demo, the report and
``analysis/README.md``'s list read the names and descriptions from here. Adding an
estimator means: write its function (rows of the effects schema,
:data:`analysis.contract.EFFECT_COLUMNS`) and add one :class:`Estimator` below.

Scope: ``per_programme`` rows have a programme; ``pooled`` rows pool the programmes.
Role: a ``primary`` estimator can be the row a hypothesis is counted by in its
family (the plan's ``[families]`` says which one is, per scope); a ``robustness``
estimator never is: its rows are reported beside the primary row, unadjusted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import pandas as pd

from . import estimators as est
from . import lin_rule  # issue 11, item 8
from .contract import FACTORS, INTERACTION

if TYPE_CHECKING:  # pragma: no cover
    from .plan import Plan

PER_PROGRAMME = "per_programme"
POOLED = "pooled"
PRIMARY = "primary"
ROBUSTNESS = "robustness"
MAIN_EFFECTS = tuple(FACTORS)
ALL_EFFECTS = (*FACTORS, INTERACTION)


@dataclass(frozen=True)
class Estimator:
    """One registered estimator.

    Attributes
    ----------
    name : str
        The value of the effects table's ``estimator`` column.
    function : callable
        The estimator in :mod:`analysis.estimators`.
    scope : str
        ``per_programme`` or ``pooled``.
    role : str
        ``primary`` or ``robustness``.
    description : str
        One line, for the README, the pre-registration and the report.
    factors : tuple of str
        The effects it estimates (main effects, and the interaction where it can).
    joint : bool
        One call estimates every factor at once (``function(df, outcome, alpha=)``).
    """

    name: str
    function: Callable[..., pd.DataFrame]
    scope: str
    role: str
    description: str
    factors: tuple[str, ...] = MAIN_EFFECTS
    joint: bool = False

    def run(self, sample: pd.DataFrame, outcome: str, plan: "Plan",
            factors: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Rows of this estimator for ``outcome`` and each of ``factors`` it estimates.

        Parameters
        ----------
        sample : DataFrame
            The analysis sample (:func:`analysis.effects.analysis_frame`).
        outcome : str
            The outcome column.
        plan : Plan
            Gives alpha and the covariates.
        factors : tuple of str, optional
            Restrict to these effects (default: every effect the estimator has).
        """
        wanted = [f for f in (factors or self.factors) if f in self.factors]
        if not wanted:
            return pd.DataFrame(columns=list(est.EFFECT_COLUMNS))
        if self.joint:
            rows = self.function(sample, outcome, alpha=plan.alpha)
            return rows[rows["factor"].isin(wanted)]
        if self.function is lin_rule.lin:  # issue 11, item 8: the plan's covariate rule
            frames = [self.function(sample, outcome, f, plan.numeric_covariates,
                                    plan.categorical_covariates, alpha=plan.alpha,
                                    rule=lin_rule.rule_of(plan)) for f in wanted]
        else:
            frames = [self.function(sample, outcome, f, alpha=plan.alpha) for f in wanted]
        return pd.concat(frames, ignore_index=True)


ESTIMATORS: dict[str, Estimator] = {e.name: e for e in (
    Estimator("difference_in_means", est.difference_in_means, PER_PROGRAMME, PRIMARY,
              "treated − control mean per programme; Neyman (= HC2) SE, Welch–Satterthwaite df, "
              "Hedges' g with its interval"),
    Estimator("factorial", est.factorial, PER_PROGRAMME, PRIMARY,
              "OLS on ±½-coded manager, partner and their product per programme; HC2 SE, df n − 4 "
              "(the per-programme estimator of the interaction)", ALL_EFFECTS, joint=True),
    Estimator("lin", lin_rule.lin, PER_PROGRAMME, ROBUSTNESS,
              "Lin (2013): treatment, centred covariates and their interactions per programme; "
              "HC2 SE, df n − k; the covariates that enter follow the plan's [covariates.lin] rule "
              "(sparse levels merged, columns capped at a share of the smaller arm)"),
    Estimator("block_weighted", est.block_weighted, POOLED, PRIMARY,
              "Σ (N_j/N) τ̂_j over programmes with Neyman (= HC2) variances; df N − 2J "
              "(N − 4J for the interaction)", ALL_EFFECTS),
    Estimator("fixed_effects", est.fixed_effects, POOLED, ROBUSTNESS,
              "OLS with programme dummies; HC2 SE, df n − k"),
)}

#: The default primary estimator per scope, in order of preference: the first one that
#: has a row for a hypothesis is its primary row (``factorial`` for the interaction
#: per programme, where there is no difference in means). The plan may override it.
DEFAULT_PRIMARY: dict[str, tuple[str, ...]] = {
    POOLED: ("block_weighted",),
    PER_PROGRAMME: ("difference_in_means", "factorial"),
}


def get(name: str) -> Estimator:
    """The registered estimator called ``name`` (KeyError names the known ones).

    Parameters
    ----------
    name : str
        An estimator name, e.g. ``block_weighted``.
    """
    try:
        return ESTIMATORS[name]
    except KeyError:
        raise KeyError(f"unknown estimator {name!r} (known: {', '.join(ESTIMATORS)})") from None


def names(scope: str | None = None, role: str | None = None) -> tuple[str, ...]:
    """Registered estimator names, optionally of one scope and/or role.

    Parameters
    ----------
    scope : str, optional
        ``per_programme`` or ``pooled``.
    role : str, optional
        ``primary`` or ``robustness``.
    """
    return tuple(e.name for e in ESTIMATORS.values()
                 if (scope is None or e.scope == scope) and (role is None or e.role == role))


def scope_of_programme(programme: str) -> str:
    """``pooled`` for the pooled rows, ``per_programme`` otherwise.

    Parameters
    ----------
    programme : str
        The effects row's programme.
    """
    return POOLED if programme == POOLED else PER_PROGRAMME


def primary_for(programme: str, primary: dict[str, tuple[str, ...]] | None = None,
                factor: str | None = None) -> str:
    """The primary estimator of a row's scope (the first that estimates ``factor``).

    Parameters
    ----------
    programme : str
        ``pooled`` or a programme.
    primary : dict, optional
        Scope -> estimator names in order of preference (the plan's; default
        :data:`DEFAULT_PRIMARY`).
    factor : str, optional
        The effect; the first preferred estimator that has it is returned.
    """
    prefs = (primary or DEFAULT_PRIMARY)[scope_of_programme(programme)]
    for name in prefs:
        if factor is None or factor in ESTIMATORS[name].factors:
            return name
    return prefs[0]


def markdown_list() -> str:
    """The registry as a Markdown list (README, pre-registration)."""
    return "\n".join(f"- `{e.name}` ({e.scope.replace('_', ' ')}, {e.role}): {e.description}."
                     for e in ESTIMATORS.values())
