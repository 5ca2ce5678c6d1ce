"""Published methods the study uses, each general and checked against its source or R.

Nothing here knows the study's questionnaire: functions take arrays and DataFrames.

* :mod:`analysis.methods.items`: checked item matrices and correlations;
* :mod:`analysis.methods.factor`: EFA (minres, oblimin), KMO, Bartlett, parallel analysis;
* :mod:`analysis.methods.reliability`: alpha, omega, composite reliability, item analysis,
  HTMT;
* :mod:`analysis.methods.agreement`: Cohen's kappa; ICC and rwg(j) for aggregation;
* :mod:`analysis.methods.weighting`: AHP, entropy and CRITIC weights;
* :mod:`analysis.methods.mcda`: normalisation, aggregation, TOPSIS;
* :mod:`analysis.methods.dea`: data envelopment analysis (CCR, BCC);
* :mod:`analysis.methods.budget`: budget allocation under diminishing returns;
* :mod:`analysis.methods.segmentation`: optimal ordered segmentation;
* :mod:`analysis.methods.montecarlo`: helpers to run Monte Carlo replications.
"""
