"""Research compendium: urban community governance performance from a public-value perspective.

All data shipped with the compendium are synthetic, drawn from the documented population
model in :mod:`analysis.study.population`; the questionnaire items are constructed for the compendium.
No number produced here is a result of the original study.
"""

__version__ = "0.1.0"
