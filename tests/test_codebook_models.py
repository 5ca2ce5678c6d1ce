"""The codebook is the single source of truth; the study's models are derived from it."""

import pandas as pd
import pytest

from analysis.io import paths
from analysis.io.codebook import (
    CodebookError,
    construct_items,
    constructs,
    elements,
    load_codebook,
    outcome,
    questionnaire_markdown,
)
from analysis.study.models import (
    chain_model,
    indirect_paths,
    parallel_model,
    structural_paths,
)


def test_shipped_codebook_shape(cb):
    items = construct_items(cb)
    assert list(items) == ["MS", "CS", "OM", "RA", "CC", "PV"]
    assert all(4 <= len(v) <= 5 for v in items.values())
    for c, its in items.items():
        assert all(i.startswith(c) and i[len(c):].isdigit() for i in its)
    assert cb["reverse"].sum() >= 1
    assert elements(cb) == ["MS", "CS", "OM", "RA", "CC"] and outcome(cb) == "PV"
    assert (cb["origin"].str.contains("constructed")).all()
    assert constructs(cb)["n_items"].tolist() == [4, 4, 4, 4, 4, 5]


def _broken(tmp_path, edit):
    df = pd.read_csv(paths.CODEBOOK, dtype=str, keep_default_na=False)
    df = edit(df)
    p = tmp_path / "codebook.csv"
    df.to_csv(p, index=False)
    return p


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.drop(columns=["scale_max"]), r"required column\(s\) missing: scale_max"),
    (lambda d: d.assign(item=d["item"].where(d.index != 3, "MS1")), r"duplicate ids in rows 2, 5"),
    (lambda d: d.assign(role=d["role"].where(d.index != 6, "driver")), r"'role' must be one of .* rows 8"),
    (lambda d: d[~d["item"].isin(["CC3", "CC4"])], r"CC \(2 items\) have fewer than 3 items"),
    (lambda d: d.assign(scale_min=d["scale_min"].where(d.index != 0, "5")), r"scale_min must be below scale_max, rows 2"),
    (lambda d: d.assign(reverse=d["reverse"].where(d.index != 1, "maybe")), r"'reverse' must be true/false, rows 3"),
    (lambda d: d.assign(role="element"), r"no construct has role 'outcome'"),
])
def test_bad_codebooks(tmp_path, edit, message):
    with pytest.raises(CodebookError, match=message):
        load_codebook(_broken(tmp_path, edit))


def test_questionnaire_is_bilingual_and_labelled_constructed(cb):
    text = questionnaire_markdown(cb)
    assert "constructed for this research compendium" in text
    for _, r in cb.iterrows():
        assert r["wording_en"] in text and r["wording_zh"] in text
    assert "OM3 (R)" in text and "CC3 (R)" in text


def test_chain_model_structure(cb):
    model = chain_model(cb)
    for line in ["CS ~ b_MS_CS*MS", "OM ~ b_MS_OM*MS + b_CS_OM*CS", "RA ~ b_CS_RA*CS + b_OM_RA*OM",
                 "CC ~ b_CS_CC*CS + b_OM_CC*OM",
                 "PV ~ b_MS_PV*MS + b_CS_PV*CS + b_OM_PV*OM + b_RA_PV*RA + b_CC_PV*CC"]:
        assert line in model.splitlines()
    ind = indirect_paths(cb)
    # Counting directed paths in the chain DAG by hand: MS has 9, CS 5, OM 2, RA and CC none.
    assert sum(p[0] == "MS" for p in ind.values()) == 9
    assert sum(p[0] == "CS" for p in ind.values()) == 5
    assert sum(p[0] == "OM" for p in ind.values()) == 2
    assert ind["ind_MS_CS_OM_RA"] == ["MS", "CS", "OM", "RA", "PV"]
    assert "ind_MS_CS_OM_RA := b_MS_CS*b_CS_OM*b_OM_RA*b_RA_PV" in model
    assert "total_OM := b_OM_PV + b_OM_CC*b_CC_PV + b_OM_RA*b_RA_PV" in model


def test_parallel_model_is_direct_paths_only(cb):
    model = parallel_model(cb)
    assert ":=" not in model
    assert [l for l in model.splitlines() if " ~ " in l] == [
        "PV ~ b_MS_PV*MS + b_CS_PV*CS + b_OM_PV*OM + b_RA_PV*RA + b_CC_PV*CC"]


def test_paths_naming_unknown_constructs_are_refused(cb):
    with pytest.raises(CodebookError, match=r"construct\(s\) \['XX'\] that the codebook lacks"):
        structural_paths(cb, [("XX", "CS")])
