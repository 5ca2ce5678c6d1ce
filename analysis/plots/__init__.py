"""The compendium's figures, matplotlib only, one module per analysis step.

Each function draws a tidy table from :mod:`analysis.study` (or :mod:`analysis.sem`) on a
given axis, or on a new figure, and returns it; saving is left to
:func:`analysis.io.outputs.savefig`. :mod:`analysis.plots.style` holds the common style and
palette; :mod:`~analysis.plots.overview` (sample and items), :mod:`~analysis.plots.structural`
(path diagram, effects, latent means), :mod:`~analysis.plots.scoring` (ranks, radar,
Sobol indices), :mod:`~analysis.plots.improvement` (IPMA, scenarios, budget, DEA),
:mod:`~analysis.plots.history` (timeline, value heatmap) and
:mod:`~analysis.plots.validation` (Monte Carlo recovery and power) the figures.
"""
