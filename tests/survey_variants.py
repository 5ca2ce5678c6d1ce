"""Surveys unlike the shipped one, generated for the end-to-end variant matrix.

Each variant is a questionnaire a researcher could bring: other construct codes and counts,
4-, 7- and 10-point scales (and scales that differ between constructs), no community type or
demographics, an SPSS file with value labels and missing codes, Chinese community types, a
user MODEL file. The data come from a small generic factor model (not the study's population):
one latent variable per construct, each element -> outcome (plus any chain paths given),
standard-normal disturbances, items cut into the scale's categories at fixed quantiles.

:func:`write_variant` writes the survey, its codebook and (when the variant has one) its
model file into a folder and returns their paths; tests/test_variants.py runs every notebook
on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Variant:
    """One survey variant: its constructs, scales and which optional columns it carries."""

    name: str
    constructs: dict            # code -> number of items; the last one is the outcome
    scales: dict                # code -> (scale_min, scale_max)
    fmt: str = "csv"            # csv, xlsx or sav
    community_type: str | None = "en"   # en, zh or None (no type column)
    demographics: tuple = ("gender", "age", "years_resident", "tenure")
    missing_codes: tuple = (9,)
    chain: tuple = ()           # extra (predictor, outcome) paths used to draw the data
    model: str | None = None    # text of a MODEL file (structural part, lavaan syntax)
    reverse: tuple = ()         # reverse-worded items
    labels: bool = False        # SPSS value labels
    n: int = 300
    n_communities: int = 20
    extra: dict = field(default_factory=dict)


STUDY = {"MS": 4, "CS": 4, "OM": 4, "RA": 4, "CC": 4, "PV": 5}
STUDY_CHAIN = (("MS", "CS"), ("MS", "OM"), ("CS", "OM"), ("CS", "RA"), ("OM", "RA"),
               ("CS", "CC"), ("OM", "CC"))

VARIANTS = {
    # other construct codes and item counts; no MODEL, so the parallel model is used
    "other-codes": Variant(
        "other-codes", {"LEAD": 4, "TRUST": 3, "SERV": 5, "ENV": 3, "TSIG": 4},
        {c: (1, 5) for c in ("LEAD", "TRUST", "SERV", "ENV", "TSIG")}, reverse=("SERV2",)),
    # the study's constructs with 3 to 6 items, a 4-point scale, xlsx
    "study-4point": Variant(
        "study-4point", {"MS": 3, "CS": 6, "OM": 4, "RA": 3, "CC": 5, "PV": 4},
        {c: (1, 4) for c in STUDY}, fmt="xlsx", chain=STUDY_CHAIN, reverse=("OM3",)),
    # a Chinese SPSS file: 7 points, missing codes 99 and -1, value labels, Chinese types,
    # no years_resident / tenure
    "spss-7point-zh": Variant(
        "spss-7point-zh", {"MS": 3, "CS": 4, "OM": 5, "RA": 6, "CC": 3, "PV": 4},
        {c: (1, 7) for c in STUDY}, fmt="sav", community_type="zh",
        demographics=("gender", "age"), missing_codes=(99, -1), chain=STUDY_CHAIN, labels=True),
    # 10-point scale (so 9 is an answer and the missing code is 99), no community type and no
    # demographics at all
    "bare-10point": Variant(
        "bare-10point", {"Q": 4, "R": 4, "S": 5}, {"Q": (1, 10), "R": (1, 10), "S": (1, 10)},
        community_type=None, demographics=(), missing_codes=(99,)),
    # like the real nested survey: ids and items only, scales 1-5 and 0-4, 11/3/5 items, xlsx
    "nested-mixed": Variant(
        "nested-mixed", {"ENG": 11, "VOICE": 3, "SAT": 5},
        {"ENG": (1, 5), "VOICE": (0, 4), "SAT": (1, 5)}, fmt="xlsx", community_type=None,
        demographics=(), missing_codes=()),
    # a user MODEL: TSIG <- LEAD <- ... with a defined indirect effect
    "user-model": Variant(
        "user-model", {"LEAD": 4, "PART": 4, "TSIG": 4}, {c: (1, 5) for c in ("LEAD", "PART", "TSIG")},
        chain=(("LEAD", "PART"),),
        model="# structural part; the measurement part comes from the codebook\n"
              "PART ~ a*LEAD\nTSIG ~ c*LEAD + b*PART\nind := a*b\n"),
}

TYPES_EN = ("old neighbourhood", "commercial-housing estate", "resettlement community",
            "work-unit compound")
TYPES_ZH = ("老旧小区", "商品房小区", "安置社区", "单位大院")


def _codebook(v: Variant) -> pd.DataFrame:
    rows = []
    codes = list(v.constructs)
    for c in codes:
        role = "outcome" if c == codes[-1] else "element"
        for j in range(1, v.constructs[c] + 1):
            item = f"{c}{j}"
            lo, hi = v.scales[c]
            rows.append({
                "item": item, "construct": c, "construct_en": f"Construct {c}",
                "construct_zh": f"构念{c}", "role": role,
                "dimension_en": f"aspect {j}", "dimension_zh": f"方面{j}",
                "wording_en": f"Statement {item}.", "wording_zh": f"陈述{item}。",
                "scale_min": lo, "scale_max": hi, "reverse": str(item in v.reverse).lower(),
                "missing_codes": ";".join(str(m) for m in v.missing_codes)})
    return pd.DataFrame(rows)


def simulate(v: Variant, seed: int = 7) -> pd.DataFrame:
    """Draw the variant's survey: ids, optional columns, then the items as answered."""
    rng = np.random.default_rng(seed)
    codes = list(v.constructs)
    out, els = codes[-1], codes[:-1]
    n, k = v.n, v.n_communities
    community = np.sort(rng.integers(0, k, n))
    u = rng.normal(0, 0.35, (k, len(codes)))
    eta = {}
    order = list(els) + [out]
    for c in order:
        preds = [p for p, t in v.chain if t == c] + (els if c == out else [])
        val = rng.standard_normal(n) + u[community, codes.index(c)]
        for p in preds:
            val = val + (0.35 if c == out else 0.45) * eta[p]
        eta[c] = val / val.std()
    df = pd.DataFrame({"respondent_id": [f"R{i + 1:04d}" for i in range(n)],
                       "community_id": [f"K{c + 1:02d}" for c in community]})
    if v.community_type:
        types = TYPES_EN if v.community_type == "en" else TYPES_ZH
        df["community_type"] = [types[c % len(types)] for c in community]
    if "gender" in v.demographics:
        df["gender"] = np.where(rng.uniform(size=n) < .5, "female", "male")
    if "age" in v.demographics:
        df["age"] = np.clip(np.round(rng.normal(50, 14, n)), 18, 90).astype(int)
    if "years_resident" in v.demographics:
        df["years_resident"] = np.round(rng.gamma(2.0, 6.0, n)).astype(int)
    if "tenure" in v.demographics:
        df["tenure"] = np.where(rng.uniform(size=n) < .7, "owner", "renter")
    for c in codes:
        lo, hi = v.scales[c]
        m = hi - lo + 1
        cuts = stats.norm.ppf(np.linspace(0, 1, m + 1)[1:-1] * 0.9 + 0.07)
        for j in range(1, v.constructs[c] + 1):
            item = f"{c}{j}"
            lam = 0.65 + 0.15 * ((j % 3) / 2)
            ystar = lam * eta[c] + np.sqrt(1 - lam ** 2) * rng.standard_normal(n)
            y = lo + np.searchsorted(cuts, ystar).astype(float)
            if item in v.reverse:
                y = lo + hi - y
            miss = rng.uniform(size=n) < 0.02
            y[miss] = np.nan
            if v.missing_codes:
                code = rng.uniform(size=n) < 0.01
                y[code] = v.missing_codes[0] if len(v.missing_codes) == 1 else \
                    rng.choice(v.missing_codes, code.sum())
            df[item] = pd.array(y, dtype="Int64") if v.fmt != "sav" else y
    return df


def write_variant(v: Variant | str, directory: str | Path) -> dict:
    """Write the variant's survey, codebook and model into ``directory``.

    Returns
    -------
    dict
        ``survey``, ``codebook`` and ``model`` (``None`` without one) paths, and the variant.
    """
    v = VARIANTS[v] if isinstance(v, str) else v
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cb = _codebook(v)
    cb_path = directory / f"{v.name}-codebook.csv"
    cb.to_csv(cb_path, index=False)
    df = simulate(v)
    survey_path = directory / f"{v.name}.{v.fmt}"
    if v.fmt == "csv":
        df.to_csv(survey_path, index=False)
    elif v.fmt == "xlsx":
        df.to_excel(survey_path, index=False)
    elif v.fmt == "sav":
        import pyreadstat

        value_labels = {}
        if v.labels:
            for item in cb["item"]:
                lo, hi = v.scales[item.rstrip("0123456789")]
                value_labels[item] = {float(lo): "非常不同意", float(hi): "非常同意",
                                      **{float(m): "不清楚" for m in v.missing_codes}}
        pyreadstat.write_sav(df, str(survey_path), variable_value_labels=value_labels,
                             column_labels={it: f"陈述{it}" for it in cb["item"]})
    model_path = None
    if v.model:
        model_path = directory / f"{v.name}-model.lav"
        model_path.write_text(v.model, encoding="utf-8")
    return {"survey": survey_path, "codebook": cb_path, "model": model_path, "variant": v}
