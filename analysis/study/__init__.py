"""The study itself: its models, synthetic population, and each analysis step built on
:mod:`analysis.sem` and :mod:`analysis.methods`.

* :mod:`analysis.study.models`: H1 (public-value chain) and H0 (parallel) as lavaan syntax
  from a codebook;
* :mod:`analysis.study.population`: the documented population model behind the synthetic
  data;
* :mod:`analysis.study.describe`: sample, item distributions, missingness;
* :mod:`analysis.study.indicators`: item analysis, reliability, CFA validity, SEM-based
  weights;
* :mod:`analysis.study.structural`: competing models, effect decomposition, invariance,
  latent means;
* :mod:`analysis.study.scoring`: community means, composite index, fuzzy evaluation,
  uncertainty of the ranks;
* :mod:`analysis.study.improvement` and :mod:`analysis.study.findings`: IPMA, scenarios,
  efficiency, improvement paths and the findings table;
* :mod:`analysis.study.history`: the policy-corpus coder and the periodisation;
* :mod:`analysis.study.recovery` and :mod:`analysis.study.power`: Monte Carlo parameter
  recovery, power and sample size.
"""
