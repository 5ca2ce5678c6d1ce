"""Measurement: item analysis, reliability, exploratory and confirmatory factor analysis.

Conventions follow R's ``psych`` (Revelle) so that results can be checked against it:
pairwise-complete covariances and correlations, sample SDs (ddof 1), psych's default
skew/kurtosis (type 3), minres factoring and oblimin rotation by gradient projection
(GPArotation, no Kaiser normalisation). Items are expected already reverse-coded (as
:func:`analysis.io.survey.load_survey` returns them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.methods.factor import minres
from analysis.methods.items import MIN_ITEMS, check_items, correlation


# ---------------------------------------------------------------------- reliability
def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha from pairwise-complete covariances (as ``psych::alpha`` raw_alpha).

    ``alpha = k/(k-1) * (1 - tr(C)/sum(C))`` with ``C`` the item covariance matrix.

    Parameters
    ----------
    items : DataFrame
        One column per item (reverse-coded), one row per respondent; NaN allowed.

    Returns
    -------
    float

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16, 297-334. Revelle, W. psych: ``alpha``.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(cronbach_alpha(df), 4)
    0.9538
    """
    x = check_items(items)
    C = x.cov(min_periods=2).to_numpy()
    if np.isnan(C).any():
        raise ValueError("some item pairs have fewer than 2 joint observations")
    k = C.shape[0]
    return float(k / (k - 1) * (1.0 - np.trace(C) / C.sum()))


def _r_drop(C: np.ndarray) -> np.ndarray:
    """Corrected item-total correlation from a covariance matrix (psych's r.drop)."""
    k = C.shape[0]
    out = np.empty(k)
    for i in range(k):
        rest = np.delete(np.arange(k), i)
        out[i] = (C[i].sum() - C[i, i]) / np.sqrt(C[i, i] * C[np.ix_(rest, rest)].sum())
    return out


def _skew_kurt(v: np.ndarray) -> tuple[float, float]:
    """psych::describe type 3: b1 = m3/s^3, b2 = m4/s^4 - 3 with the sample SD s (ddof 1)."""
    v = v[~np.isnan(v)]
    d = v - v.mean()
    s = v.std(ddof=1)
    return float(np.mean(d ** 3) / s ** 3), float(np.mean(d ** 4) / s ** 4 - 3.0)


def item_statistics(items: pd.DataFrame, *, scale_min=None, scale_max=None,
                    extreme: float = 0.27) -> pd.DataFrame:
    """Item analysis of one scale.

    Columns: ``item n mean sd skew kurtosis floor ceiling r_drop alpha_if_deleted
    cr_t cr_p``. ``floor``/``ceiling`` are the shares of answers at the scale's
    minimum/maximum; ``r_drop`` the corrected item-total correlation and
    ``alpha_if_deleted`` alpha without the item (both from pairwise covariances, as psych);
    ``cr_t``/``cr_p`` the critical ratio: Welch's t comparing the item between respondents
    in the top and bottom ``extreme`` share (27 %, Kelley 1939) of the scale's total score
    (respondents who answered every item of the scale; ties at the cut-offs included).
    """
    x = check_items(items, min_items=3)
    C = x.cov(min_periods=2).to_numpy()
    rdrop = _r_drop(C)
    cols = list(x.columns)
    a_del = [cronbach_alpha(x.drop(columns=c)) for c in cols]
    total = x.dropna().sum(axis=1)
    lo, hi = total.quantile(extreme), total.quantile(1.0 - extreme)
    low, high = x.loc[total.index[total <= lo]], x.loc[total.index[total >= hi]]
    smin = x.min().min() if scale_min is None else scale_min
    smax = x.max().max() if scale_max is None else scale_max
    rows = []
    for j, c in enumerate(cols):
        v = x[c].to_numpy()
        obs = v[~np.isnan(v)]
        sk, ku = _skew_kurt(v)
        t = stats.ttest_ind(high[c].to_numpy(), low[c].to_numpy(), equal_var=False)
        rows.append({"item": c, "n": int(obs.size), "mean": obs.mean(), "sd": obs.std(ddof=1),
                     "skew": sk, "kurtosis": ku, "floor": np.mean(obs == smin),
                     "ceiling": np.mean(obs == smax), "r_drop": rdrop[j],
                     "alpha_if_deleted": a_del[j], "cr_t": float(t.statistic),
                     "cr_p": float(t.pvalue)})
    return pd.DataFrame(rows)


def omega_total(items: pd.DataFrame) -> float:
    """McDonald's omega total from a one-factor minres model (psych's definition).

    ``omega_t = 1 - sum(u2) / sum(R)`` with ``R`` the pairwise correlation matrix (the
    observed total variance of the standardised sum), as ``psych::omega(nfactors = 1)``.

    References
    ----------
    McDonald, R. P. (1999). *Test Theory: A Unified Treatment*. Erlbaum.
    """
    x = check_items(items, min_items=MIN_ITEMS)
    R = correlation(x)
    _, u2 = minres(R, 1)
    return float(1.0 - u2.sum() / R.sum())


def composite_reliability(loadings, residuals=None) -> float:
    """Composite reliability ``(sum l)^2 / ((sum l)^2 + sum theta)`` of standardised
    loadings (``theta = 1 - l^2`` unless residual variances are given).

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). *J. Marketing Research*, 18(1), 39-50.
    """
    lam = np.asarray(loadings, float)
    theta = 1.0 - lam ** 2 if residuals is None else np.asarray(residuals, float)
    return float(lam.sum() ** 2 / (lam.sum() ** 2 + theta.sum()))


# -------------------------------------------------------------- halves and CFA
def split_halves(data: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split respondents at random into two halves (EFA on the first, CFA on the second)."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(data))
    cut = len(data) // 2
    return data.iloc[np.sort(idx[:cut])], data.iloc[np.sort(idx[cut:])]


def htmt(data: pd.DataFrame, groups: dict[str, list[str]], variant: str = "htmt",
         missing: str = "listwise") -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations between constructs.

    ``HTMT_ij = mean |r| between items of i and j / sqrt(mean |r| within i x mean |r|
    within j)`` (Henseler et al. 2015); ``variant="htmt2"`` uses geometric means instead
    (Roemer, Schuberth & Henseler 2021). Values below 0.85 (conservative) or 0.90
    (liberal) support discriminant validity.

    Parameters
    ----------
    groups : dict construct -> list of items (at least 2 each).
    missing : "listwise" (as ``semTools::htmt``) or "pairwise".
    """
    if variant not in ("htmt", "htmt2"):
        raise ValueError(f"variant must be 'htmt' or 'htmt2', got {variant!r}")
    cols = [i for items in groups.values() for i in items]
    x = check_items(data[cols], min_items=2)
    if missing == "listwise":
        x = x.dropna()
    R = x.corr().abs()
    mean = ((lambda a: np.exp(np.mean(np.log(a)))) if variant == "htmt2" else np.mean)

    def mono(items):
        sub = R.loc[items, items].to_numpy()
        return mean(sub[np.triu_indices(len(items), 1)])

    names = list(groups)
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            hetero = mean(R.loc[groups[names[a]], groups[names[b]]].to_numpy().ravel())
            v = hetero / np.sqrt(mono(groups[names[a]]) * mono(groups[names[b]]))
            out.iloc[a, b] = out.iloc[b, a] = v
    return out
