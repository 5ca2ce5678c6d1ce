"""Benchmark: the Monte Carlo of the community ranking and the aggregation statistics.

Times, as the median of repeats on the synthetic survey (47 scored communities, 20 items):

* ``analysis.study.rank_uncertainty.uncertainty_analysis`` at the notebook's size (``n_runs=1000``, which the
  Saltelli design rounds up to 1,792 runs) and ten times larger, with the six weighting schemes
  computed once beforehand (the SEM fit behind the SEM-based weights is timed in bench_fiml);
* the same runs done the slow way, one :func:`analysis.study.scoring.composite_index` call per
  configuration (timed on a subset and scaled), to show what the vectorisation buys;
* ``analysis.methods.agreement.aggregation_table`` (ICC(1), ICC(2), rwg(j) for six constructs).

Records rows ``task, n, ours_s, lavaan_s, ratio`` in data/processed/benchmarks.csv (``n`` =
Monte Carlo runs or respondents; ``lavaan_s`` and ``ratio`` are empty: there is no R
counterpart).

Usage::

    .venv/bin/python bench/bench_scoring.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import median_time, record  # noqa: E402

from analysis.io.codebook import construct_items, elements, load_codebook  # noqa: E402
from analysis.io.survey import load_survey  # noqa: E402
from analysis.methods.agreement import aggregation_table  # noqa: E402
from analysis.study import rank_uncertainty, scoring  # noqa: E402


def slow_runs(res, means, schemes, codebook, limit: int) -> float:
    """Seconds per run when each configuration is scored by a composite_index call."""
    by_el = construct_items(codebook)
    t0 = time.perf_counter()
    for _, d in res.design.head(limit).iterrows():
        w = schemes[d["weighting"]].copy()
        base = schemes[d["weighting"]]
        if d["left_out"] != "none":
            w[d["left_out"]] = 0.0
        for e in elements(codebook):
            cols = by_el[e]
            w[cols] = w[cols] / w[cols].sum() * base[cols].sum() * d[f"mult_{e}"]
        scoring.composite_index(means, codebook, normalisation=d["normalisation"],
                                weights=w / w.sum(), aggregation=d["aggregation"])
    return (time.perf_counter() - t0) / limit


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    cb = load_codebook()
    survey = load_survey(codebook=cb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schemes = scoring.weighting_schemes(survey, cb)
    means = scoring.community_means(survey, cb)
    rows = []
    for n_runs in (1000, 10000):
        def run(n_runs=n_runs):
            return rank_uncertainty.uncertainty_analysis(survey, cb, weightings=schemes, n_runs=n_runs,
                                                nominal={"weighting": "combined"}, seed=1,
                                                progress=False)
        res = run()
        ours = median_time(run, args.repeats)
        runs = len(res.design)
        rows.append(dict(task=f"scoring_montecarlo_{runs}_runs", n=runs, ours_s=ours,
                         lavaan_s=float("nan"), ratio=float("nan")))
        print(f"Monte Carlo, {runs} runs x {len(means)} communities: {ours:.2f} s "
              f"({1e3 * ours / runs:.3f} ms per run, Sobol analysis included)")
    per_run = slow_runs(res, means, schemes, cb, limit=200)
    rows.append(dict(task="scoring_montecarlo_slow_path_per_run", n=200, ours_s=per_run,
                     lavaan_s=float("nan"), ratio=float("nan")))
    print(f"slow path (composite_index per run): {1e3 * per_run:.2f} ms per run, "
          f"{per_run * runs:.1f} s for {runs} runs")
    items = construct_items(cb)
    agg = median_time(lambda: aggregation_table(survey, items, n_options=5), args.repeats)
    rows.append(dict(task="aggregation_icc_rwg_six_constructs", n=len(survey), ours_s=agg,
                     lavaan_s=float("nan"), ratio=float("nan")))
    print(f"ICC(1), ICC(2), rwg(j) for {len(items)} constructs, {len(survey)} respondents: {agg:.3f} s")
    print(f"wrote {record(rows).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
