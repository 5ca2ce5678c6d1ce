"""Running Monte Carlo replications: progress bars, joblib or Dask.

The simulation studies (:mod:`analysis.study.recovery`, :mod:`analysis.study.power`) split
their replications into tasks and run them with joblib; these helpers are what they share:
:func:`progress_bar` (tqdm only when asked) and :func:`backend` (the same tasks on a Dask
cluster through joblib's dask backend). Workers hold BLAS to one thread through the engine's
:func:`analysis.sem.single_thread_blas`, because small matrices do not profit from BLAS threads,
which only contend between workers.
"""

from __future__ import annotations

import contextlib


def progress_bar(iterable, total: int, show: bool, desc: str):
    """tqdm over ``iterable`` when ``show`` (imported only then), else the iterable itself.

    Parameters
    ----------
    iterable : iterable
    total : int
        Number of items, for the bar.
    show : bool
        Whether to show a bar.
    desc : str
        Label of the bar.

    Returns
    -------
    iterable
        ``iterable`` itself, or a tqdm wrapper around it.

    Examples
    --------
    >>> items = [1, 2, 3]
    >>> progress_bar(items, total=3, show=False, desc="runs") is items
    True
    """
    if not show:
        return iterable
    from tqdm import tqdm  # plain text: tqdm.auto warns without ipywidgets

    return tqdm(iterable, total=total, desc=desc)


@contextlib.contextmanager
def backend(dask_scheduler):
    """joblib's default backend, or its dask backend on the given scheduler / Client.

    Parameters
    ----------
    dask_scheduler : None, str, distributed.Client or cluster
        ``None``: joblib's default (loky) backend; otherwise a scheduler address (e.g.
        ``"tcp://scheduler:8786"``), a ``Client``, or a cluster object with a
        ``scheduler_address`` (e.g. ``LocalCluster``). A client created here is closed on exit.

    Yields
    ------
    None
        Inside the block, ``joblib.Parallel`` runs on the chosen backend.

    Examples
    --------
    >>> from joblib import Parallel, delayed
    >>> with backend(None):
    ...     Parallel(n_jobs=1)(delayed(abs)(x) for x in (-1, -2))
    [1, 2]
    """
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
