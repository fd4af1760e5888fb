"""The designs empirical studies use to estimate a programme's effect, applied to simulated firms.

Each function takes a firm table (one replication of :attr:`sim.Decomposition.firms`, or any frame with
the columns it names) and returns an :class:`EffectEstimate` with its own standard error, so that it
can be set beside the true effect on the treated from :func:`sim.decompose` (:func:`true_att`). They
see only what a study would see: the treatment indicator, the outcome, and observables (sector, entry
stream, age at entry, a screening score, an arrival date) -- never latent quality unless asked to.

Regressions and the propensity score use statsmodels (``pip install "incuchain[studies]"``):

* :func:`naive` -- difference in means (OLS, HC1 standard error);
* :func:`ipw` -- inverse-probability weighting for the effect on the treated (statsmodels
  ``TreatmentEffect.ipw``, logit propensity score, GMM standard error);
* :func:`matching` -- one-to-one nearest-neighbour matching on the logit propensity score, with
  replacement; Abadie-Imbens-style standard error (controls' outcome variance for reused matches);
* :func:`regression_discontinuity` -- local linear regression at a sharp screening threshold
  (uniform kernel within the bandwidth, separate slopes, HC1);
* :func:`lottery` -- difference in means among lottery entrants (OLS, HC1);
* :func:`difference_in_differences` -- participants versus others, arrival cohorts before versus in a
  policy window (OLS with interaction, HC1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "OBSERVABLES",
    "EffectEstimate",
    "difference_in_differences",
    "ipw",
    "lottery",
    "matching",
    "naive",
    "regression_discontinuity",
    "true_att",
]

OBSERVABLES: tuple[str, ...] = ("sector", "source", "age_at_arrival")
"""What a study can observe about a firm: sector, entry stream, age at entry (not latent quality)."""

_Z95 = float(special.ndtri(0.975))


@dataclass(frozen=True)
class EffectEstimate:
    """An effect estimate with its standard error and normal 95 % interval.

    ``design`` names the estimator, ``n`` the firms it used, ``note`` any caveat (e.g. a fuzzy threshold).
    """

    design: str
    estimate: float
    se: float
    n: int
    note: str = ""

    @property
    def ci_low(self) -> float:
        return self.estimate - _Z95 * self.se

    @property
    def ci_high(self) -> float:
        return self.estimate + _Z95 * self.se

    def covers(self, value: float) -> bool:
        """Whether the 95 % interval holds ``value``."""
        return self.ci_low <= value <= self.ci_high

    def as_dict(self) -> dict[str, Any]:
        return {"design": self.design, "estimate": self.estimate, "se": self.se, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "n": self.n, "note": self.note}  # fmt: skip


def _sm() -> Any:
    try:
        import statsmodels.api as sm
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError('sim.estimators needs statsmodels: pip install "incuchain[studies]"') from exc
    return sm


def _complete(firms: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows with every named column present (survival outcomes are NaN without full follow-up)."""
    return firms.dropna(subset=list(columns))


def _design_matrix(firms: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray:
    """A constant, numeric covariates as they are, categorical ones as dummies (first level dropped).

    Columns that add nothing (no variation, or a combination of earlier ones, e.g. a sector that
    coincides with a stream) are dropped, in the order given, so the fits are identified.
    """
    cols = [np.ones(len(firms))]
    for c in covariates:
        col = firms[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            x = col.to_numpy(dtype=float)[:, None]
        else:
            x = pd.get_dummies(col.astype(str), drop_first=True, dtype=float).to_numpy()
        for k in range(x.shape[1]):
            trial = np.column_stack([*cols, x[:, k]])
            if np.linalg.matrix_rank(trial) == trial.shape[1]:
                cols.append(x[:, k])
    return np.column_stack(cols)


def true_att(firms: pd.DataFrame, outcome: str, treated: str = "participant") -> float:
    """The true effect on the treated: mean of factual minus untreated outcome over treated firms."""
    d = _complete(firms, [outcome, f"{outcome}_untreated"])
    t = d[treated].to_numpy(dtype=bool)
    return float((d[outcome].to_numpy()[t] - d[f"{outcome}_untreated"].to_numpy()[t]).mean())


def _ols_coef(y: np.ndarray, x: np.ndarray, col: int) -> tuple[float, float]:
    fit = _sm().OLS(y, x).fit(cov_type="HC1")
    return float(fit.params[col]), float(fit.bse[col])


def naive(firms: pd.DataFrame, outcome: str, treated: str = "participant") -> EffectEstimate:
    """Treated minus untreated mean outcome, as a survey of participants and others would measure it."""
    d = _complete(firms, [outcome])
    t = d[treated].to_numpy(dtype=float)
    est, se = _ols_coef(d[outcome].to_numpy(dtype=float), np.column_stack([np.ones(len(d)), t]), 1)
    return EffectEstimate("naive difference", est, se, len(d))


def lottery(firms: pd.DataFrame, outcome: str, won: str = "participant", entrants: str = "applied") -> EffectEstimate:
    """Winners minus losers among the firms that entered the lottery (``entrants`` true), like a trial."""
    d = _complete(firms[firms[entrants].astype(bool)], [outcome])
    t = d[won].to_numpy(dtype=float)
    est, se = _ols_coef(d[outcome].to_numpy(dtype=float), np.column_stack([np.ones(len(d)), t]), 1)
    return EffectEstimate("lottery (winners - losers)", est, se, len(d))


def ipw(
    firms: pd.DataFrame, outcome: str, treated: str = "participant", covariates: Sequence[str] = OBSERVABLES
) -> EffectEstimate:
    """Effect on the treated by inverse-probability weighting on a logit propensity score of ``covariates``."""
    from statsmodels.treatment.treatment_effects import TreatmentEffect

    sm = _sm()
    d = _complete(firms, [outcome, *covariates])
    x = _design_matrix(d, covariates)
    t = d[treated].to_numpy(dtype=float)
    y = d[outcome].to_numpy(dtype=float)
    select = sm.Logit(t, x).fit(disp=0, maxiter=200)
    res = TreatmentEffect(sm.OLS(y, x), t, results_select=select).ipw(effect_group=1)
    row = res.summary_frame().loc["ATE"]
    return EffectEstimate("inverse-probability weighting", float(row["coef"]), float(row["std err"]), len(d))


def matching(
    firms: pd.DataFrame, outcome: str, treated: str = "participant", covariates: Sequence[str] = OBSERVABLES
) -> EffectEstimate:
    """Effect on the treated by nearest-neighbour matching on the logit propensity score, with replacement.

    Each treated firm is matched to the untreated firms whose linear predictor (of a logit of treatment
    on ``covariates``) is closest; exact ties (discrete covariates) are all used, equally weighted.
    Standard error: the spread of the treated firms' matched differences plus, for each control, its
    total weight squared times the controls' outcome variance (in the spirit of Abadie and Imbens 2006,
    with one pooled variance; slightly conservative).
    """
    sm = _sm()
    d = _complete(firms, [outcome, *covariates])
    x = _design_matrix(d, covariates)
    t = d[treated].to_numpy(dtype=bool)
    y = d[outcome].to_numpy(dtype=float)
    score = np.round(np.asarray(sm.Logit(t.astype(float), x).fit(disp=0, maxiter=200).fittedvalues, dtype=float), 9)
    s_c, y_c = score[~t], y[~t]
    levels, group = np.unique(s_c, return_inverse=True)  # control scores, and each control's level
    size = np.bincount(group).astype(float)
    mean_at = np.bincount(group, weights=y_c) / size
    pos = np.clip(np.searchsorted(levels, score[t]), 1, len(levels) - 1) if len(levels) > 1 else None
    if pos is None:
        nearest = np.zeros(int(t.sum()), dtype=np.int64)
    else:
        left, right = levels[pos - 1], levels[pos]
        nearest = np.where(np.abs(score[t] - left) <= np.abs(score[t] - right), pos - 1, pos)
    diff = y[t] - mean_at[nearest]
    att = float(diff.mean())
    n_t = len(diff)
    weight = (np.bincount(nearest, minlength=len(levels)) / size)[group]  # each control's total weight
    var = (np.sum((diff - att) ** 2) + np.sum(weight**2) * float(np.var(y_c, ddof=1))) / n_t**2
    return EffectEstimate("propensity-score matching (nearest neighbour)", att, float(np.sqrt(var)), len(d))


def regression_discontinuity(
    firms: pd.DataFrame,
    outcome: str,
    threshold: float,
    bandwidth: float,
    running: str = "screen_score",
    treated: str = "participant",
    among: str = "applied",
) -> EffectEstimate:
    """Jump of the outcome at a screening threshold: local linear regression on each side.

    Among the applicants (``among``) with ``|running - threshold| < bandwidth``, fits ``outcome ~ D +
    r + D r`` with ``D = 1[running >= threshold]`` and ``r = running - threshold`` (uniform kernel, HC1).
    The jump estimates the effect at the threshold when crossing it decides treatment (a sharp design);
    ``note`` reports the jump in the share treated when it is below 0.99 (then the design is fuzzy and the
    estimate is the effect of crossing the threshold, not of treatment).
    """
    d = firms[firms[among].astype(bool)]
    d = _complete(d, [outcome, running])
    r = d[running].to_numpy(dtype=float) - threshold
    d = d[np.abs(r) < bandwidth]
    r = d[running].to_numpy(dtype=float) - threshold
    above = (r >= 0).astype(float)
    x = np.column_stack([np.ones(len(d)), above, r, above * r])
    est, se = _ols_coef(d[outcome].to_numpy(dtype=float), x, 1)
    jump, _ = _ols_coef(d[treated].to_numpy(dtype=float), x, 1)
    note = "" if jump >= 0.99 else f"fuzzy: the share treated jumps by {jump:.2f} at the threshold"
    return EffectEstimate("regression discontinuity", est, se, len(d), note)


def difference_in_differences(
    firms: pd.DataFrame,
    outcome: str,
    window: tuple[float, float],
    before: tuple[float, float],
    treated: str = "participant",
    time: str = "arrival_time",
) -> EffectEstimate:
    """Participants versus others, firms arriving in the policy ``window`` versus ``before`` it (years).

    Fits ``outcome ~ T + P + T P`` (``T`` treated, ``P`` arrived in the window) on firms arriving in
    either span, HC1; the interaction is the estimate (parallel trends assumed).
    """
    d = _complete(firms, [outcome])
    at = d[time].to_numpy(dtype=float)
    in_w = (at >= window[0]) & (at < window[1])
    in_b = (at >= before[0]) & (at < before[1])
    d = d[in_w | in_b]
    post = in_w[in_w | in_b].astype(float)
    t = d[treated].to_numpy(dtype=float)
    x = np.column_stack([np.ones(len(d)), t, post, t * post])
    est, se = _ols_coef(d[outcome].to_numpy(dtype=float), x, 3)
    return EffectEstimate("difference in differences", est, se, len(d))
