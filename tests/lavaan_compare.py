"""Shared comparisons with lavaan's committed output (tests/reference/sem_robust/).

Not a test module: the FIML and MLR tests import these helpers.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REF = Path(__file__).parent / "reference" / "sem_robust"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
XCOLS = [f"x{i}" for i in range(1, 10)]

# lavaan fitMeasures name -> our fit_indices name
FIT_NAMES = {
    "chisq": "chisq", "df": "df", "npar": "npar", "ntotal": "ntotal", "pvalue": "pvalue",
    "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df", "cfi": "cfi",
    "tli": "tli", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_lower",
    "rmsea.ci.upper": "rmsea_ci_upper", "srmr": "srmr", "logl": "loglik",
    "unrestricted.logl": "unrestricted_loglik", "aic": "aic", "bic": "bic",
    "chisq.scaled": "chisq_scaled", "chisq.scaling.factor": "scaling_factor",
    "pvalue.scaled": "pvalue_scaled", "baseline.chisq.scaled": "baseline_chisq_scaled",
    "baseline.chisq.scaling.factor": "baseline_scaling_factor", "cfi.robust": "cfi_robust",
    "tli.robust": "tli_robust", "rmsea.robust": "rmsea_robust",
    "rmsea.ci.lower.robust": "rmsea_ci_lower_robust",
    "rmsea.ci.upper.robust": "rmsea_ci_upper_robust",
}
LOGL = {"logl", "unrestricted.logl", "aic", "bic"}


def load_fit(name):
    return json.loads((REF / f"{name}_fit.json").read_text())


def load_extra(name):
    return json.loads((REF / f"{name}_extra.json").read_text())


def compare_fit(res, name, rtol=1e-4, skip=()):
    """Every lavaan fit measure we report, within rtol (loglik-type: 0.01 absolute)."""
    ref = load_fit(name)
    checked = 0
    for k, v in ref.items():
        if k not in FIT_NAMES or k in skip:
            continue
        ours = res.fit_indices[FIT_NAMES[k]]
        if k in LOGL:
            assert ours == pytest.approx(v, abs=0.01), k
        elif k.startswith("pvalue"):
            assert ours == pytest.approx(v, rel=1e-3, abs=1e-6), k
        else:
            assert ours == pytest.approx(v, rel=rtol, abs=1e-6), k
        checked += 1
    assert checked >= 15


def compare_estimates(res, name, rtol=1e-3):
    ref = pd.read_csv(REF / f"{name}_est.csv", keep_default_na=False)
    ref = ref[ref["op"] != ":="]
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in res.estimates.columns else [])
    m = ref.merge(res.estimates, on=keys, suffixes=("_lav", ""))
    assert len(m) == len(ref)
    np.testing.assert_allclose(m["est"], m["est_lav"], rtol=rtol, atol=1e-3)
    np.testing.assert_allclose(m["se"], m["se_lav"], rtol=rtol, atol=1e-4)
