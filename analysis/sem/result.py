"""The result of a fit: estimates (lavaan vocabulary), fit indices, warnings, summary text."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .estimates import build_estimates

__all__ = ["SEMResult"]


@dataclass
class SEMResult:
    """A fitted structural equation model.

    Attributes
    ----------
    estimates : DataFrame
        ``lhs op rhs label [group] est se z pvalue std_all se_std`` — one row per
        parameter (free and fixed) and per ``:=`` definition, in lavaan's vocabulary.
    fit_indices : Series
        npar chisq df pvalue cfi tli rmsea rmsea_ci_lower rmsea_ci_upper srmr gfi agfi
        loglik aic bic baseline_chisq baseline_df (lavaan's definitions).
    converged : bool
    warnings : list of str
        Everything that makes the numbers doubtful (also issued with ``warnings.warn``).
    theta, vcov : ndarray
        Free parameters (model order) and their covariance matrix.
    model : SEMModel
        Gives implied moments and Jacobians (see :mod:`analysis.sem.model`).
    """

    model: object
    theta: np.ndarray
    vcov: np.ndarray
    estimates: pd.DataFrame
    fit_indices: pd.Series
    converged: bool
    warnings: list = field(default_factory=list)
    estimator: str = "ML"
    missing: str = "listwise"
    n_obs: int = 0
    n_dropped: int = 0
    group: str | None = None
    syntax: str = ""
    info: object = None
    extra: dict = field(default_factory=dict)

    def estimates_with_vcov(self, vcov: np.ndarray) -> pd.DataFrame:
        """The parameter table with SEs from another covariance matrix of theta.

        Parameters
        ----------
        vcov : ndarray
            ``n_free x n_free``, e.g. a design-based or between-cluster covariance.

        Returns
        -------
        DataFrame
            As :attr:`estimates` (``se_std`` not computed).
        """
        return build_estimates(self.model, self.theta, np.asarray(vcov, dtype=float),
                               std_se=False)

    @property
    def defined_estimates(self) -> pd.DataFrame:
        return self.estimates[self.estimates["op"] == ":="]

    def summary(self) -> str:
        """lavaan-like text summary (estimator, fit, parameter table)."""
        fi = self.fit_indices
        lines = [
            f"SEM fit: estimator {self.estimator}, missing={self.missing}, "
            f"{'converged' if self.converged else 'NOT CONVERGED'}",
            f"  observations used {self.n_obs}" + (f" (dropped {self.n_dropped} incomplete)"
                                                  if self.n_dropped else ""),
            f"  free parameters {int(fi['npar'])}",
        ]
        cl = self.extra.get("cluster")  # fit_sem(cluster=): analysis/sem/cluster.py
        if cl:
            lines.append(f"  clusters {' + '.join(map(str, cl['n_clusters']))} "
                         f"({cl['name']}); standard errors robust.cluster, scaled test "
                         f"Yuan-Bentler (Mplus)")
        lines += [
            "",
            "Model test (ML):",
            f"  chisq {fi['chisq']:.3f}  df {int(fi['df'])}  p {fi['pvalue']:.4f}",
        ]
        if "chisq_scaled" in fi.index:
            lines.append(f"  scaled chisq {fi['chisq_scaled']:.3f} (scaling factor "
                         f"{fi['scaling_factor']:.4f})")
        lines += [
            f"  CFI {fi['cfi']:.3f}  TLI {fi['tli']:.3f}  SRMR {fi['srmr']:.3f}",
            f"  RMSEA {fi['rmsea']:.3f}  90% CI [{fi['rmsea_ci_lower']:.3f}, "
            f"{fi['rmsea_ci_upper']:.3f}]",
            f"  logLik {fi['loglik']:.3f}  AIC {fi['aic']:.3f}  BIC {fi['bic']:.3f}",
            "",
        ]
        est = self.estimates.copy()
        cols = [c for c in ["group", "lhs", "op", "rhs", "label", "est", "se", "z", "pvalue",
                            "std_all"] if c in est.columns]
        with pd.option_context("display.width", 120, "display.max_rows", 500,
                               "display.float_format", "{:.3f}".format):
            lines.append(est[cols].to_string(index=False))
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:  # concise in notebooks; print(result.summary()) for detail
        fi = self.fit_indices
        return (f"<SEMResult {self.estimator} N={self.n_obs} chisq={fi['chisq']:.3f} "
                f"df={int(fi['df'])} cfi={fi['cfi']:.3f} rmsea={fi['rmsea']:.3f} "
                f"converged={self.converged} warnings={len(self.warnings)}>")

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary().replace("&", "&amp;").replace("<", "&lt;") + "</pre>"
