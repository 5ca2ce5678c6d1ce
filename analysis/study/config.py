"""One study configuration, read by every notebook: codebook, structural model, what a survey has.

A notebook's parameters cell names the survey, codebook and MODEL file (``None``: the shipped
synthetic survey and the compendium's codebook); :func:`load_study` turns them into one
:class:`Study`, so every notebook uses the same constructs, scales, missing codes and
structural model, and knows which optional steps the survey allows (comparisons by community
type, demographics, comparisons with the synthetic population's true values).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.io.codebook import load_codebook
from analysis.study.models import StudyModel, study_model

#: Columns that describe respondents (used when present, never required).
DEMOGRAPHICS = ("gender", "age", "years_resident", "tenure")


@dataclass
class Study:
    """What one run of the notebooks analyses.

    Attributes
    ----------
    codebook : DataFrame
        The questionnaire.
    model : StudyModel
        The structural model and the sentence saying which one and why.
    survey_path, codebook_path, model_path : path or None
        As given; ``None`` survey means the shipped synthetic survey.
    """

    codebook: pd.DataFrame
    model: StudyModel
    survey_path: Path | None = None
    codebook_path: Path | None = None
    model_path: Path | None = None

    def h1(self) -> str:
        """The run's structural model in lavaan syntax (measurement part from the codebook)."""
        return self.model.syntax(self.codebook)

    @property
    def paths(self) -> tuple:
        """The paths among the elements, for functions that take ``paths=``."""
        return self.model.paths

    @property
    def shipped(self) -> bool:
        """True for the shipped synthetic survey: only then are population values known."""
        return self.survey_path is None

    def has_types(self, survey: pd.DataFrame, column: str = "community_type") -> bool:
        """Whether ``survey`` has at least two community types to compare."""
        return column in survey.columns and survey[column].replace("", pd.NA).dropna().nunique() >= 2

    def skip_types(self, survey: pd.DataFrame, step: str, column: str = "community_type") -> str | None:
        """The one-line reason a comparison by community type is skipped, or ``None`` to run it.

        Examples
        --------
        >>> import pandas as pd
        >>> s = load_study()
        >>> s.skip_types(pd.DataFrame({"community_id": ["a"]}), "measurement invariance")
        'measurement invariance skipped: the survey has no community_type column'
        """
        if column not in survey.columns:
            return f"{step} skipped: the survey has no {column} column"
        if not self.has_types(survey, column):
            return f"{step} skipped: the survey has fewer than two community types"
        return None

    def demographics(self, survey: pd.DataFrame) -> list[str]:
        """The respondent characteristics ``survey`` records (possibly none)."""
        return [c for c in DEMOGRAPHICS if c in survey.columns and survey[c].notna().any()]


def load_study(survey_path: str | os.PathLike | None = None,
               codebook_path: str | os.PathLike | None = None,
               model_path: str | os.PathLike | None = None) -> Study:
    """Read the codebook and choose the structural model for a run of the notebooks.

    Parameters
    ----------
    survey_path : path, optional
        The survey (``None``: the shipped synthetic one). Only recorded here; the notebooks
        read it with :func:`analysis.io.survey.load_survey`.
    codebook_path : path, optional
        ``None``: ``data/raw/codebook.csv``.
    model_path : path, optional
        A MODEL file (lavaan syntax, structural part); see
        :func:`analysis.study.models.read_model_file`.

    Returns
    -------
    Study

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software* 48(2), 1-36 (model syntax).

    Examples
    --------
    >>> s = load_study()
    >>> s.shipped, s.model.source
    (True, 'study')
    """
    codebook = load_codebook(codebook_path)
    model = study_model(codebook, model_path)
    as_path = (lambda p: Path(p) if p is not None else None)
    return Study(codebook, model, as_path(survey_path), as_path(codebook_path), as_path(model_path))
