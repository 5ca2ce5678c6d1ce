"""lavaan syntax parsing, lavaan's default parameters, and the model object's API (implied
moments and the Jacobian Delta in lavaan's vech order) used by the FIML/MLR modules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39

from analysis.sem import SEMError, fit_sem
from analysis.sem.model import SampleStats, build_model, vech_index
from analysis.sem.syntax import parse_model

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def test_parse_operators_modifiers_comments_and_continuations():
    text = """
    # measurement
    f1 =~ x1 + a*x2 +
          NA*x3          ! lavaan's other comment sign
    f2 =~ 1*y1 + start(0.7)*y2
        + y3; f2 ~ b*f1
    y1 + y2 ~ 1
    x1 ~~ c(e, e)*x2
    ab := a*b
    """
    st = parse_model(text)
    rows = [(s.lhs, s.op, s.rhs) for s in st]
    assert rows == [("f1", "=~", "x1"), ("f1", "=~", "x2"), ("f1", "=~", "x3"),
                    ("f2", "=~", "y1"), ("f2", "=~", "y2"), ("f2", "=~", "y3"),
                    ("f2", "~", "f1"), ("y1", "~1", ""), ("y2", "~1", ""),
                    ("x1", "~~", "x2"), ("ab", ":=", "")]
    assert st[1].label == ["a"] and st[2].fixed == [None] and st[3].fixed == [1.0]
    assert st[4].start == [0.7] and st[6].label == ["b"] and st[9].label == ["e", "e"]
    assert st[10].expr == "a*b"


@pytest.mark.parametrize("bad,msg", [
    ("f =~ ", "missing"), ("f x1 + x2", "no operator"), ("f =~ x1 + + x2", "empty term"),
    ("f =~ 2x", "invalid"), ("a == b", "not supported"), ("", "empty"),
])
def test_syntax_errors(bad, msg):
    with pytest.raises(SEMError, match=msg):
        parse_model(bad)


def test_lavaan_defaults_for_sem():
    hs = holzinger39.get_data()
    res = fit_sem(HS_MODEL + "\nvisual ~ ageyr", hs)
    pt = res.model.partable
    # marker variables fixed to 1
    first = pt[(pt["op"] == "=~") & (pt["rhs"].isin(["x1", "x4", "x7"]))]
    assert (first["free"] == -1).all() and (first["value"] == 1).all()
    # exogenous latent covariances free; 'visual' is endogenous now
    covs = set(zip(pt.loc[(pt["op"] == "~~") & (pt["lhs"] != pt["rhs"]), "lhs"],
                   pt.loc[(pt["op"] == "~~") & (pt["lhs"] != pt["rhs"]), "rhs"]))
    assert covs == {("textual", "speed")}
    # fixed.x: the covariate's variance is fixed at its sample value (divisor N)
    v = pt[(pt["lhs"] == "ageyr") & (pt["op"] == "~~")]
    assert v["free"].item() == -1
    assert v["value"].item() == pytest.approx(hs["ageyr"].var(ddof=0))


def _moments(model, theta, g):
    S, mu = model.sigma_mu(theta, g)
    i, j = vech_index(model.p)
    return np.concatenate([S[i, j], mu])


def test_delta_matches_numerical_derivative_multigroup():
    hs = holzinger39.get_data()
    ov = [f"x{i}" for i in range(1, 10)]
    samples = [SampleStats.from_data(hs.loc[hs["school"] == s, ov].to_numpy(), ov)
               for s in ("Pasteur", "Grant-White")]
    m = build_model(HS_MODEL + "\nvisual ~ a*speed", samples,
                    group_equal=("loadings", "intercepts"))
    assert m.meanstructure and m.n_groups == 2
    theta = m.theta_start + 0.05 * np.random.default_rng(1).standard_normal(m.n_free)
    for g in range(2):
        D = m.delta(theta, g)
        p = m.p
        assert D.shape == (p * (p + 1) // 2 + p, m.n_free)
        num = np.zeros_like(D)
        h = 1e-6
        for k in range(m.n_free):
            tp, tm = theta.copy(), theta.copy()
            tp[k] += h
            tm[k] -= h
            num[:, k] = (_moments(m, tp, g) - _moments(m, tm, g)) / (2 * h)
        assert np.allclose(D, num, atol=1e-6)


def test_vech_order_is_lavaans():
    i, j = vech_index(3)  # lav_matrix_vech: column-major lower triangle
    assert list(zip(i, j)) == [(0, 0), (1, 0), (2, 0), (1, 1), (2, 1), (2, 2)]


def test_summary_and_repr():
    res = fit_sem(HS_MODEL, holzinger39.get_data())
    text = res.summary()
    assert "chisq 85.306" in text and "visual" in text and "=~" in text
    assert "SEMResult" in repr(res)
    assert list(res.estimates.columns) == ["lhs", "op", "rhs", "label", "est", "se", "z",
                                           "pvalue", "std_all", "se_std"]
    assert isinstance(res.fit_indices, pd.Series)
