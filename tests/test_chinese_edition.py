"""The Chinese edition (issue #17, part 2): every visible string of every figure is Chinese,
and the tables' headers, captions and category labels too.

Each plot function of analysis/plots is drawn from small hand-made inputs (no notebook runs),
with the titles the notebooks give it; the zh edition is saved and every text of the figure
is checked: no English word may remain, only codes (item ids, construct codes, community ids,
abbreviations), numbers, units and the names of analysis.io.terms.LATIN_NAMES. The same
check on the English edition finds English words, so it can fail. The tables are checked on
the committed outputs of data/processed/ (translated in a temporary folder), and the edition
is checked with a user's codebook and categories that terms.csv does not know
(tests/survey_variants.py, "spss-7point-zh").
"""

from __future__ import annotations

import inspect
import re
import shutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from analysis.io import paths  # noqa: E402
from analysis.io.codebook import load_codebook  # noqa: E402
from analysis.io.outputs import write_table  # noqa: E402
from analysis.io.terms import (TermsError, english_words, glossary, load_terms,  # noqa: E402
                               translate, translate_value)
from analysis.plots import (history, improvement, indicators, overview, scoring,  # noqa: E402
                            structural, validation)
from analysis.plots.edition import save_figure, translate_figure, translate_tables  # noqa: E402
from analysis.plots.style import use_style  # noqa: E402
from survey_variants import write_variant  # noqa: E402

TYPES = ["old neighbourhood", "work-unit compound", "commercial-housing estate",
         "resettlement community"]
ELEMENTS = ["MS", "CS", "OM", "RA", "CC"]
MODULES = (overview, history, indicators, structural, scoring, improvement, validation)


def _fig(ax_or_fig):
    return ax_or_fig if isinstance(ax_or_fig, plt.Figure) else ax_or_fig.figure


# -- one small figure per plot function, with the notebooks' titles ------------------------

def _item_distributions():
    dist = pd.DataFrame({"item": ["MS1", "MS2", "PV1"], "construct": ["MS", "MS", "PV"],
                         "1": [.1, .2, .1], "2": [.2, .2, .1], "3": [.3, .2, .2],
                         "4": [.3, .2, .3], "5": [.1, .2, .3]})
    anchors = load_terms().set_index("key").loc[[f"anchor.agreement.{k}" for k in range(1, 6)],
                                                "en"].tolist()
    return overview.plot_item_distributions(dist, anchors=anchors)


def _missingness():
    miss = pd.DataFrame({"item": ["MS1", "MS2"], "all": [.01, .02],
                         **{t: [.01, .03] for t in TYPES}})
    return overview.plot_missingness(miss)


def _sample():
    fig = overview.plot_sample(pd.DataFrame({"community_type": TYPES * 2,
                                             "respondents": [30, 31, 32, 33, 34, 35, 36, 4]}))
    fig.suptitle("Respondents per community (synthetic data)")
    return fig


def _timeline():
    from analysis.io.corpus import load_corpus, load_stage_codebook
    from analysis.study.history import code_corpus, coded_corpus_table, fit_periodisation

    corpus = load_corpus()
    coded = code_corpus(corpus, load_stage_codebook())
    table = coded_corpus_table(corpus, coded).merge(corpus[["id", "year"]], on="id")
    fig, ax = plt.subplots(figsize=(9.0, 3.6))
    history.plot_timeline(table, fit_periodisation(corpus.merge(coded, on="id")), ax=ax)
    return fig


def _value_heatmap():
    counts = pd.DataFrame(np.arange(16).reshape(4, 4),
                          index=["management", "service", "construction", "governance"],
                          columns=["control_stability", "welfare_services", "residents_needs",
                                   "institutionalisation"])
    return history.plot_value_heatmap(counts)


def _item_correlations():
    items = ["MS1", "MS2", "CS1", "CS2"]
    R = pd.DataFrame(np.eye(4) * .5 + .5, index=items, columns=items)
    fig, ax = plt.subplots()
    return indicators.plot_item_correlations(R, {"MS": items[:2], "CS": items[2:]}, ax,
                                             title="Correlations among the 4 items (synthetic data)")


def _parallel_analysis():
    pa = pd.DataFrame({"factor": [1, 2, 3], "observed_fa": [3., 1., .2],
                       "random_fa": [.5, .4, .3]})
    fig, ax = plt.subplots()
    return indicators.plot_parallel_analysis(pa, ax, title="Parallel analysis, EFA half (synthetic data)")


def _efa_loadings():
    L = pd.DataFrame([[.8, .1], [.1, .7]], index=["MS1", "CS1"], columns=["F1\n(MS)", "F2\n(CS)"])
    fig, ax = plt.subplots()
    return indicators.plot_efa_loadings(L, ax, title="EFA loadings (minres, oblimin), EFA half")


def _weights():
    schemes = ["equal", "ahp", "entropy", "critic", "sem", "combined"]
    t = pd.DataFrame({"element": ELEMENTS, **{s: [.2] * 5 for s in schemes}})
    fig, ax = plt.subplots()
    return indicators.plot_weights(t, schemes, ax,
                                   title="Element weights under 6 schemes (synthetic data)")


def _estimates():
    rows = [("X", "=~", "x1", 1.0, np.nan, 0.8), ("X", "=~", "x2", 0.9, 1e-9, 0.7),
            ("M", "=~", "m1", 1.0, np.nan, 0.75), ("M", "=~", "m2", 1.1, 1e-9, 0.72),
            ("Y", "=~", "y1", 1.0, np.nan, 0.81), ("Y", "=~", "y2", 1.0, 1e-9, 0.77),
            ("M", "~", "X", 0.5, 1e-6, 0.456), ("Y", "~", "M", 0.3, 0.003, 0.31),
            ("Y", "~", "X", 0.05, 0.40, 0.048), ("X", "~~", "M", 0.2, 0.01, 0.3),
            ("M", "~~", "M", 0.7, 1e-9, 0.79), ("Y", "~~", "Y", 0.6, 1e-9, 0.88)]
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "pvalue", "std_all"])


def _path_diagram():
    fig, ax = plt.subplots(figsize=(9, 6))
    return structural.path_diagram(_estimates(), ax, show_items=True, show_covariances=True,
                                   title="H1, the public-value chain: standardised solution "
                                         "(ML, synthetic data)")


def _forest():
    eff = pd.DataFrame({"element": ["MS", "CS"], "effect": "specific",
                        "path": ["MS -> CS -> PV", "CS -> OM -> RA -> PV"],
                        "name": ["ind_MS_CS", "ind_CS_OM_RA"], "est": [.05, .08],
                        "ci_lower_perc": [.01, .03], "ci_upper_perc": [.09, .13],
                        "ci_lower_bca": [.01, .03], "ci_upper_bca": [.09, .13]})
    fig, ax = plt.subplots()
    return structural.forest_plot(eff, ax, title="Specific indirect effects on PV "
                                                 "(H1, bootstrap 95% intervals)")


def _latent_means():
    means = pd.DataFrame({"construct": ["MS", "CS"] * 2, "group": [TYPES[0]] * 2 + [TYPES[1]] * 2,
                          "est": [0, 0, .3, -.2], "ci_lower": [0, 0, .1, -.4],
                          "ci_upper": [0, 0, .5, 0], "d": [0, 0, .4, -.25]})
    truth = means.assign(true_d=means["d"])[["construct", "group", "true_d"]]
    fig, ax = plt.subplots()
    return structural.latent_means_plot(
        means, ax, truth=truth, title="Latent means by community type (scalar model, "
                                      "cluster-robust 95% intervals; diamonds: population values)")


def _twolevel_paths():
    paths = pd.DataFrame({"predictor": ["MS", "CS"], "outcome": ["CS", "PV"],
                          "est_within": [0.5, 0.1], "ci_lower_within": [0.4, 0.0],
                          "ci_upper_within": [0.6, 0.2], "est_between": [0.6, 0.3],
                          "ci_lower_between": [0.2, -0.1], "ci_upper_between": [1.0, 0.7]})
    fig, ax = plt.subplots()
    return structural.twolevel_paths_plot(
        paths, ax, title="The chain within and between communities (two-level FIML)")


def _scores():
    return pd.DataFrame({"community_id": ["C01", "C02", "C03", "C04"], "community_type": TYPES,
                         **{e: [60., 55., 70., 65.] for e in ELEMENTS},
                         "score": [61., 56., 69., 66.]})


def _caterpillar():
    s = pd.DataFrame({"community_id": ["C01", "C02", "C03", "C04"], "nominal_rank": [2, 1, 3, 4],
                      "median_rank": [2, 1, 3, 4], "rank_p05": [1, 1, 2, 3],
                      "rank_p95": [3, 2, 4, 4]})
    ax = scoring.plot_caterpillar(s, types=_scores().set_index("community_id")["community_type"])
    ax.set_title("Community ranks under alternative methodological choices (synthetic data)")
    return ax


def _element_heatmap():
    ax = scoring.plot_element_heatmap(_scores(), ELEMENTS)
    ax.set_title("Element scores (0-100) of every community, by type (synthetic data)", pad=24)
    return ax


def _radar():
    return scoring.plot_radar(_scores(), {TYPES[0]: "C01", TYPES[1]: "C02"}, ELEMENTS)


def _elements_by_type():
    ax = scoring.plot_elements_by_type(_scores(), ELEMENTS)
    ax.set_ylabel("element score (0-100)")
    ax.set_title("Element scores by community type (synthetic data)")
    return ax


def _sobol():
    sob = pd.DataFrame({"factor": ["weighting", "normalisation", "aggregation",
                                   "left-out indicator", "weight perturbation"],
                        "S1": [.5, .2, .1, .1, .05], "S1_conf": .05, "ST": [.6, .3, .1, .1, .1],
                        "ST_conf": .05})
    ax = scoring.plot_sobol(sob)
    ax.set_title("What drives the rank shifts (synthetic data)")
    return ax


def _ipma_table():
    rows = []
    for g in ["all"] + TYPES:
        for k, e in enumerate(ELEMENTS):
            rows.append({"group": g, "level": "construct", "construct": e, "item": "",
                         "importance": .2 + .05 * k, "performance": 55. + k,
                         "importance_lower": .15 + .05 * k, "importance_upper": .25 + .05 * k,
                         "performance_se": .8,
                         "quadrant": ["concentrate here", "keep up the good work", "low priority",
                                      "possible overkill", "within noise"][k]})
            rows.append({"group": g, "level": "item", "construct": e, "item": f"{e}1",
                         "importance": .05 + .01 * k, "performance": 50. + 2 * k,
                         "importance_lower": .04 + .01 * k, "importance_upper": .06 + .01 * k,
                         "performance_se": .9, "quadrant": "low priority"})
    return pd.DataFrame(rows)


def _ipma():
    table = _ipma_table()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
    improvement.plot_ipma(table, axes[0], level="construct", title="Elements (whole city)")
    improvement.plot_ipma(table, axes[1], level="item")
    improvement.plot_ipma(table, axes[2], group=TYPES[0], title=TYPES[0], reference="all")
    axes[0].legend()
    axes[2].legend()
    return fig


def _whatif():
    t = pd.DataFrame({"scenario": ["MS +10", "CS +10", "each element +10",
                                   "each equation +10 (propagated)"],
                      "delta": [2., 1.5, 8., 16.], "ci_lower": [1., .5, 7., 15.],
                      "ci_upper": [3., 2.5, 9., 17.]})
    fig, ax = plt.subplots()
    return improvement.plot_whatif(t, ax)


def _frontier():
    from analysis.methods.budget import frontier

    front = frontier([.3, .2], [1., 2.], [50., 60.], budgets=[0, 10, 20], names=["MS", "CS"])
    fig, ax = plt.subplots()
    return improvement.plot_frontier(front, ax, budget=10)


def _efficiency():
    eff = pd.DataFrame({"unit": ["C01", "C02", "C03"], "efficiency_crs": [.8, 1., .6],
                        "efficiency_vrs": [.9, 1., .7], "efficient_vrs": [False, True, False],
                        "peers": ["C02", "C02", "C02"]})
    fig, ax = plt.subplots()
    types = pd.Series(TYPES[:3], index=["C01", "C02", "C03"])
    return improvement.plot_efficiency(eff, ax, types=types)


def _summary():
    rows = []
    for design in ("N200", "N800", "mar10", "mar20", "likert", "clustered", "zero_paths"):
        for method in ("ML", "FIML", "listwise"):
            for label, kind in (("b_MS_CS", "path"), ("ind_MS_CS_OM", "indirect"),
                                ("indirect_MS", "total indirect"), ("total_MS", "total")):
                rows.append({"design": design, "method": method, "label": label, "kind": kind,
                             "rel_bias": .01, "coverage": .95, "mcse_coverage": .01,
                             "rmse": .1})
    return pd.DataFrame(rows)


def _recovery_by_n():
    return validation.plot_recovery_by_n(_summary(), {"N200": 200, "N800": 800})


def _method_comparison():
    return validation.plot_method_comparison(_summary(), ["mar10", "mar20", "likert",
                                                          "clustered", "zero_paths"])


def _required_residents():
    need = pd.DataFrame({"label": ["b_MS_CS", "ind_MS_CS_OM", "total_MS"] * 2,
                         "kind": ["path", "indirect", "total"] * 2,
                         "n_communities": [16] * 3 + [48] * 3,
                         "n_required": [400., np.inf, 900., 300., 2000., 700.]})
    return validation.plot_required_residents(need)


def _power():
    table = pd.DataFrame({"label": ["b_MS_CS"] * 3 + ["ind_MS_CS_OM"] * 3,
                          "kind": ["path"] * 3 + ["indirect"] * 3,
                          "n_residents": [200, 400, 800] * 2, "n_communities": 16,
                          "power": [.4, .7, .95, .2, .4, .7]})
    return validation.plot_power(table)


#: plot function -> a figure drawn by it (every public drawing function of analysis.plots)
FIGURES = {
    overview.plot_item_distributions: _item_distributions,
    overview.plot_missingness: _missingness,
    overview.plot_sample: _sample,
    history.plot_timeline: _timeline,
    history.plot_value_heatmap: _value_heatmap,
    indicators.plot_item_correlations: _item_correlations,
    indicators.plot_parallel_analysis: _parallel_analysis,
    indicators.plot_efa_loadings: _efa_loadings,
    indicators.plot_weights: _weights,
    structural.path_diagram: _path_diagram,
    structural.forest_plot: _forest,
    structural.latent_means_plot: _latent_means,
    structural.twolevel_paths_plot: _twolevel_paths,
    scoring.plot_caterpillar: _caterpillar,
    scoring.plot_element_heatmap: _element_heatmap,
    scoring.plot_radar: _radar,
    scoring.plot_elements_by_type: _elements_by_type,
    scoring.plot_sobol: _sobol,
    improvement.plot_ipma: _ipma,
    improvement.plot_whatif: _whatif,
    improvement.plot_frontier: _frontier,
    improvement.plot_efficiency: _efficiency,
    validation.plot_recovery_by_n: _recovery_by_n,
    validation.plot_method_comparison: _method_comparison,
    validation.plot_required_residents: _required_residents,
    validation.plot_power: _power,
}


def _visible_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_every_plot_function_is_checked():
    drawing = {f for m in MODULES for name, f in inspect.getmembers(m, inspect.isfunction)
               if f.__module__ == m.__name__ and not name.startswith("_")
               and (name.startswith("plot_") or name in ("path_diagram", "forest_plot",
                                                         "latent_means_plot",
                                                         "twolevel_paths_plot"))}
    assert drawing == set(FIGURES), sorted(f.__name__ for f in drawing ^ set(FIGURES))


@pytest.mark.parametrize("draw", list(FIGURES.values()), ids=[f.__name__ for f in FIGURES])
def test_the_chinese_edition_of_every_figure_has_no_english_word(draw, tmp_path):
    use_style()
    fig = _fig(draw())
    english = [t for t in _visible_texts(fig) if english_words(t)]
    assert english, "the English edition should have English words: the check would be void"
    saved = save_figure(fig, "figure", labels="zh", directory=tmp_path)
    assert [p.name for p in saved] == ["figure.png", "figure.pdf"]
    texts = _visible_texts(fig)
    left = {t: english_words(t) for t in texts if english_words(t)}
    # mathtext is set in the math fonts, which have no Chinese glyphs
    mixed = [t for t in texts if t.count("$") >= 2 and re.search("[\u3400-\u9fff]", t)]
    plt.close(fig)
    assert not left, left
    assert not mixed, mixed


def test_a_users_titles_lose_the_synthetic_data_label_in_chinese_too(monkeypatch):
    monkeypatch.setenv(paths.USER_SURVEY_ENV, "1")
    fig, ax = plt.subplots()
    ax.set_title("Element weights under 6 schemes (synthetic data)")
    fig.suptitle("H1, the public-value chain: standardised solution (ML, synthetic data)")
    translate_figure(fig, "zh")
    assert (ax.get_title(), fig.texts[0].get_text()) == ("6 种赋权方案下的要素权重",
                                                         "H1 公共价值链模型：标准化解（ML）")
    plt.close(fig)


def test_chinese_labels_that_no_longer_fit_are_wrapped():
    """Tick labels that run into each other, and an axis label longer than its axis, are
    broken into two lines in the Chinese edition (the English one is left as drawn)."""
    use_style()
    counts = pd.DataFrame([[1, 2, 3, 4]], index=["management"],
                          columns=["control_stability", "welfare_services", "residents_needs",
                                   "institutionalisation"])
    fig, ax = plt.subplots(figsize=(4.5, 2.5))
    history.plot_value_heatmap(counts, ax=ax)
    ax.set_ylabel("latent mean minus old neighbourhood (pooled latent SD units, 95% CI)")
    translate_figure(fig, "zh")
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[-1] == "制度化、\n规范化、程序化" and ticks[0] == "政治控制\n与稳定"
    assert ax.get_ylabel() == "与老旧小区的潜均值之差\n（合并潜标准差单位，95% 置信区间）"
    plt.close(fig)


def test_parameter_labels_read_as_construct_names():
    g = glossary("zh")
    assert validation.effect_label("b_OM_RA") == "OM → RA"
    assert translate(validation.effect_label("b_OM_RA"), g) == "组织管理 → 资源配置"
    # the outcome's gloss in brackets is left out inside a chain of arrows
    assert translate(validation.effect_label("ind_MS_CS_OM"), g) == \
        "多元主体 → 共识塑造 → 组织管理 → 治理绩效"
    assert translate(validation.effect_label("total_MS"), g) == "多元主体 → 治理绩效（总效应）"
    assert translate("C14  (peer of 12)", g) == "C14（12 个社区的参照标杆）"
    assert translate("latent mean minus work-unit compound\n(pooled latent SD units, 95% CI)",
                     g) == "与单位大院的潜均值之差（合并潜标准差单位，95% 置信区间）"
    assert translate("Correlations among the 19 items (synthetic data)", g) == \
        "19 个题项之间的相关系数（合成数据）"
    # unknown codes and a user's own labels pass through
    assert translate("XY → PV", g) == "XY → 治理绩效"
    assert translate("幸福里社区", g) == "幸福里社区"


def test_a_templated_term_must_use_the_same_placeholders(tmp_path):
    path = tmp_path / "terms.csv"
    path.write_text("key,en,zh\nfig.ok,{n} communities,{n} 个社区\n"
                    "fig.bad,rank {k} of {n},第 {k} 名\n", encoding="utf-8")
    with pytest.raises(TermsError, match=r"terms.csv: column 'zh' .* row\(s\) 3"):
        load_terms(path)
    path.write_text("key,en,zh\nfig.bare,{x},{x}\n", encoding="utf-8")
    with pytest.raises(TermsError, match=r"row\(s\) 2"):
        load_terms(path)


def test_translate_tables_translates_headers_captions_and_categories(tmp_path):
    df = pd.DataFrame({"community_type": ["old neighbourhood", "幸福里", "all"],
                       "grade": ["good", "fair", "poor"],
                       "quadrant": ["concentrate here", "within noise", "low priority"],
                       "effect": ["direct", "specific", "total"], "kept": [True, False, True],
                       "item": ["MS1", "CS2", "PV3"], "wording_en": ["all", "good", "fair"],
                       "est": [0.25, -1.5, 3.0]})
    write_table(df, "demo", caption="Sample by community type", directory=tmp_path)
    written = translate_tables("zh", tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == ["zh/demo.csv",
                                                                           "zh/demo.tex"]
    out = pd.read_csv(tmp_path / "zh" / "demo.csv", dtype=str, keep_default_na=False)
    assert list(out.columns) == ["社区类型", "等级", "象限", "效应类型", "是否保留", "题项",
                                 "题项表述（英文）", "估计值"]
    assert out["社区类型"].tolist() == ["老旧小区", "幸福里", "全部"]
    assert out["等级"].tolist() == ["良", "中", "差"]
    assert out["象限"].tolist() == ["重点改进区", "在误差范围内", "低优先区"]
    assert out["效应类型"].tolist() == ["直接效应", "特定间接效应", "总效应"]
    assert out["是否保留"].tolist() == ["是", "否", "是"]
    assert out["题项"].tolist() == ["MS1", "CS2", "PV3"]                  # codes kept
    assert out["题项表述（英文）"].tolist() == ["all", "good", "fair"]     # an English column
    # numbers kept byte for byte
    english = (tmp_path / "demo.csv").read_text(encoding="utf-8").splitlines()
    chinese = (tmp_path / "zh" / "demo.csv").read_text(encoding="utf-8").splitlines()
    assert [r.rsplit(",", 1)[1] for r in chinese[1:]] == [r.rsplit(",", 1)[1] for r in english[1:]]
    tex = (tmp_path / "zh" / "demo.tex").read_text(encoding="utf-8")
    assert "\\caption{按社区类型分列的样本}" in tex
    assert "社区类型 & 等级 & 象限 & 效应类型 & 是否保留 & 题项 & 题项表述（英文） & 估计值 \\\\" in tex
    assert "老旧小区 & 良 & 重点改进区 & 直接效应 & 是 & MS1 & all & 0.250 \\\\" in tex
    # the English tables are untouched
    assert (tmp_path / "demo.csv").read_text(encoding="utf-8").startswith("community_type,")


def test_the_committed_tables_have_chinese_headers_and_captions(tmp_path):
    """Every header and caption of the committed tables, translated: no English word, no two
    columns of a table with the same Chinese header; the run's own folder is translated in
    place and a second pass changes nothing."""
    from analysis.plots.edition import main

    tables = tmp_path / "tables"
    tables.mkdir()
    for src in sorted(paths.DATA_PROCESSED.glob("*.csv")) + sorted(paths.DATA_PROCESSED.glob("*.tex")):
        shutil.copy(src, tables / src.name)
    assert main(["zh", "--results", str(tmp_path)]) == 0
    first = {p.name: p.read_bytes() for p in tables.iterdir()}
    problems = []
    for csv_path in sorted(tables.glob("*.csv")):
        header = pd.read_csv(csv_path, nrows=0).columns
        if english := [c for c in header if english_words(c)]:
            problems.append((csv_path.name, english))
        if header.str.replace(r"\.\d+$", "", regex=True).duplicated().any():
            problems.append((csv_path.name, "duplicate header"))
    for tex in sorted(tables.glob("*.tex")):
        caption = [ln for ln in tex.read_text(encoding="utf-8").splitlines()
                   if ln.startswith("\\caption{")]
        if caption and english_words(caption[0][len("\\caption{"):-1]):
            problems.append((tex.name, caption[0]))
    assert not problems, problems
    sample = pd.read_csv(tables / "sample-by-type.csv", dtype=str)
    assert set(sample["社区类型"]) == {"老旧小区", "单位大院", "商品房小区", "安置社区", "全部"}
    assert main(["zh", "--results", str(tmp_path)]) == 0
    assert {p.name: p.read_bytes() for p in tables.iterdir()} == first


def test_the_edition_works_with_a_users_codebook_and_categories(tmp_path):
    """spss-7point-zh: Chinese community types, construct names from the user's codebook;
    a category terms.csv does not know is kept as it is."""
    files = write_variant("spss-7point-zh", tmp_path / "input")
    codebook = load_codebook(files["codebook"])
    g = glossary("zh", sources=[codebook])
    assert translate("MS → CS → PV", g) == "构念MS → 构念CS → 构念PV"
    use_style()
    types = ["老旧小区", "商品房小区", "安置社区", "单位大院", "riverside estate"]
    fig = overview.plot_sample(pd.DataFrame({"community_type": types,
                                             "respondents": [30, 31, 32, 33, 34]}))
    fig.suptitle("Respondents per community")
    save_figure(fig, "sample", labels="zh", directory=tmp_path, sources=[codebook])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == types
    assert fig.texts[0].get_text() == "各社区受访居民人数"
    plt.close(fig)
    fig = validation.plot_required_residents(pd.DataFrame(
        {"label": ["b_MS_CS", "b_CS_PV"], "kind": "path", "n_communities": 20,
         "n_required": [300., 500.]}))
    translate_figure(fig, "zh", sources=[codebook])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["构念MS → 构念CS",
                                                                     "构念CS → 构念PV"]
    plt.close(fig)
    write_table(pd.DataFrame({"community_type": types, "MS": [1, 2, 3, 4, 5]}), "scores",
                directory=tmp_path / "tables")
    translate_tables("zh", tmp_path / "tables", sources=[codebook])
    out = pd.read_csv(tmp_path / "tables" / "zh" / "scores.csv", dtype=str)
    assert list(out.columns) == ["社区类型", "MS"]
    assert out["社区类型"].tolist() == types
    assert translate_value("riverside estate", g) == "riverside estate"
