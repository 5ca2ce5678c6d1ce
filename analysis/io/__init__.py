"""Input and output: the compendium's files, read, validated and written in one way each.

* :mod:`analysis.io.paths`: where the files live; atomic writing;
* :mod:`analysis.io.checks`: error messages that name the offending rows;
* :mod:`analysis.io.codebook`: the questionnaire's codebook (constructs, items, scales);
* :mod:`analysis.io.survey`: reading a survey file against the codebook;
* :mod:`analysis.io.companions`: cost table, problem catalogue, AHP expert panel;
* :mod:`analysis.io.corpus`: the policy corpus and the stage/value codebook;
* :mod:`analysis.io.outputs`: reproducible figures and tables.
"""
