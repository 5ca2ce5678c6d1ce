"""Errors and warnings of the SEM engine."""

from __future__ import annotations

__all__ = ["SEMError", "SEMWarning"]


class SEMError(ValueError):
    """A model cannot be fitted to these data (the message names the problem)."""


class SEMWarning(UserWarning):
    """A fit was produced but should not be trusted without a look (also in result.warnings)."""
