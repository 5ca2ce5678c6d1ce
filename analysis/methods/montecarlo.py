"""Monte Carlo parameter recovery of the public-value chain model (issue 9).

Datasets are drawn from the documented population model (:mod:`analysis.study.population`), the
study's model H1 (:func:`analysis.study.models.chain_model`) is fitted to each with
:func:`analysis.sem.fit_sem`, and every structural path and ``:=`` indirect effect is compared
with its true value: bias, relative bias, RMSE, coverage of 95% intervals and rejection rates,
each with its Monte Carlo standard error.

Truth in the metric of the fitted model
---------------------------------------
The fitted model identifies each factor by its first item (marker loading 1), so its
unstandardised paths are ``beta * lambda_Y1 / lambda_X1``, not the standardised ``beta`` of
:data:`analysis.study.population.POPULATION`. :func:`true_values` obtains the true values of *every*
parameter in the fitted metric by fitting the model to data whose sample moments equal the
population moments exactly (:func:`exact_moment_data`); the fit reproduces them with zero
discrepancy when the model is correct. For 5-point Likert items the population moments of the
discretised items are computed exactly (bivariate-normal integrals, :func:`population_moments`)
and the same fit gives the *pseudo-true* values (White 1982) that ML converges to; their
standardised values show the attenuation that the cut points cause.

Designs (:class:`Design`) switch one departure from the clean case on at a time: continuous
items without community effects (the case where theory promises unbiased estimates and nominal
coverage), missing answers at random (FIML vs listwise), Likert items with the documented,
skewed thresholds (ML vs MLR), community random effects (clustering the single-level fit
ignores), and two paths that are zero in the population (type I error).

Replication ``r`` of a design always gets the same data, whatever the number of workers or
replications: its seed is ``numpy.random.SeedSequence(seed, spawn_key=(design key, r))``.

References
----------
Paxton, P., Curran, P. J., Bollen, K. A., Kirby, J. & Chen, F. (2001). Monte Carlo experiments:
design and implementation. Structural Equation Modeling 8(2), 287-312.
Muthén, L. K. & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on sample size
and determine power. Structural Equation Modeling 9(4), 599-620.
Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation studies to evaluate
statistical methods. Statistics in Medicine 38, 2074-2102 (performance measures, MC SEs).
Enders, C. K. (2010). Applied Missing Data Analysis. Guilford (FIML vs listwise under MAR).
White, H. (1982). Maximum likelihood estimation of misspecified models. Econometrica 50, 1-25.

Examples
--------
>>> from analysis.study.recovery import Design, monte_carlo, summarise, true_values
>>> d = Design("clean", n_residents=400)
>>> est = monte_carlo([d], n_reps=4, seed=1)                      # doctest: +SKIP
>>> summarise(est, {d.name: true_values(d)}).columns[:4].tolist()  # doctest: +SKIP
['design', 'method', 'label', 'kind']
"""

from __future__ import annotations

import contextlib


def progress_bar(iterable, total: int, show: bool, desc: str):
    """tqdm over ``iterable`` when ``show`` (imported only then), else the iterable itself."""
    if not show:
        return iterable
    from tqdm import tqdm  # plain text: tqdm.auto warns without ipywidgets

    return tqdm(iterable, total=total, desc=desc)


def single_thread():
    """One BLAS thread per worker: the matrices are small and threads only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


@contextlib.contextmanager
def backend(dask_scheduler):
    """joblib's default backend, or its dask backend on the given scheduler / Client."""
    if dask_scheduler is None:
        yield
        return
    import joblib
    from distributed import Client

    own = None
    if isinstance(dask_scheduler, Client):
        client = dask_scheduler
    elif hasattr(dask_scheduler, "scheduler_address"):  # a LocalCluster or similar
        client = own = Client(dask_scheduler)
    else:
        client = own = Client(str(dask_scheduler))
    try:
        with joblib.parallel_config(backend="dask", client=client):
            yield
    finally:
        if own is not None:
            own.close()
