"""The study itself: its models, synthetic population, and each analysis step built on
:mod:`analysis.sem` and :mod:`analysis.methods`.

* :mod:`analysis.study.models`: H1 (public-value chain) and H0 (parallel) as lavaan syntax
  from a codebook;
* :mod:`analysis.study.population`: the documented population model behind the synthetic
  data;
* :mod:`analysis.study.describe`: sample, item distributions, missingness;
* :mod:`analysis.study.indicators`: item analysis, reliability, CFA validity, SEM-based
  weights;
* :mod:`analysis.study.structural`: competing models and effect decomposition;
  :mod:`analysis.study.heterogeneity`: invariance across community types and latent means;
  :mod:`analysis.study.robustness`: other estimators, auxiliary variables, modification
  indices; :mod:`analysis.study.multilevel`: cluster-robust refits and the two-level chain;
  :mod:`analysis.study.common_method`: common-method-variance checks;
* :mod:`analysis.study.scoring`: community means, composite index, fuzzy evaluation;
  :mod:`analysis.study.rank_uncertainty`: the ranks under the index's choices;
  :mod:`analysis.study.community`: scores shrunk to their type, rank intervals with resident
  sampling error, grade probabilities;
* :mod:`analysis.study.importance` (the 0-100 scale and total effects),
  :mod:`analysis.study.ipma` (the importance-performance map with its noise),
  :mod:`analysis.study.whatif` (scenarios), :mod:`analysis.study.improvement` (community scores
  and efficiency) and :mod:`analysis.study.findings` (improvement paths and the findings
  table);
* :mod:`analysis.study.history`: the policy-corpus coder and the periodisation;
* :mod:`analysis.study.simulation_designs`, :mod:`analysis.study.true_values`,
  :mod:`analysis.study.recovery`, :mod:`analysis.study.contrast_recovery` and
  :mod:`analysis.study.power`: Monte Carlo parameter recovery, power and sample size.
"""
