"""Reports for a street office: one page per community and a district overview.

The top layer of the package (above :mod:`analysis.plots`): it reads the tables a run of the
notebooks wrote and refits nothing.

* :mod:`analysis.reports.data`: load and check a run's tables (:func:`~analysis.reports.data.load_run`);
* :mod:`analysis.reports.compare`: the comparisons the pages state (type and peer means, rank
  intervals within a type, the overview's order);
* :mod:`analysis.reports.text`: plain-language sentences from the numbers, in either language,
  with every number tagged for checking;
* :mod:`analysis.reports.figures`: the small figures, embedded as SVG;
* :mod:`analysis.reports.fonts`: the Chinese font, subset and embedded in each page;
* :mod:`analysis.reports.html`: the pages and their print stylesheet;
* :mod:`analysis.reports.build`: writing every page of a run atomically;
* ``python -m analysis.reports`` (``make reports``): the command line.
"""

from analysis.reports.build import page_names, render, write_reports
from analysis.reports.data import Run, RunTablesError, load_run

__all__ = ["Run", "RunTablesError", "load_run", "page_names", "render", "write_reports"]
