"""Historical stages of urban community governance: corpus, dictionary coder, agreement, periodisation.

The study divides urban community governance since 1949 into four ordered stages (community
management, service, construction, governance), each with a public-value orientation. This
module makes that history a testable step:

* :func:`load_corpus` / :func:`validate_corpus` read the hand-curated policy corpus and refuse
  bad rows (unparseable date, unknown stage, missing title) with an error naming the row;
* :func:`load_codebook` reads the bilingual dictionary of stage and value-orientation terms;
* :func:`match_terms` and :func:`code_corpus` are a transparent dictionary coder: every
  document gets a stage (or ``"unclassified"`` / ``"tie"``) and a value-orientation profile,
  with the evidence terms it matched;
* :func:`cohen_kappa` measures agreement with the hand-assigned stage (Cohen 1960, 1968;
  large-sample standard errors of Fleiss, Cohen & Everitt 1969);
* :func:`segment_sequence` finds, by exact dynamic programming, the ordered segmentation of
  the dated sequence into the four stages that best fits the coding; :func:`fit_periodisation`
  reports its boundaries as dates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# --------------------------------------------------------------------------------------------
# Ordered segmentation (periodisation)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Segmentation:
    """Result of :func:`segment_sequence`.

    Attributes
    ----------
    cuts : tuple of int
        Index of the first element of segments 2..K (0-based, in the sorted sequence) of the
        reported optimum: among equally good segmentations, the one with the earliest
        boundaries (lexicographically smallest ``cuts``).
    loss : float
        Total cost of the optimum.
    n_optimal : int
        Number of segmentations that attain ``loss``.
    cut_ranges : tuple of (int, int)
        For each boundary, the smallest and largest position it takes in any optimal
        segmentation: the boundary is only located within this range.
    """

    cuts: tuple[int, ...]
    loss: float
    n_optimal: int
    cut_ranges: tuple[tuple[int, int], ...]

    def assignment(self, n: int) -> np.ndarray:
        """Segment index (0..K-1) of each of ``n`` elements."""
        return np.searchsorted(np.asarray(self.cuts), np.arange(n), side="right")


def segmentation_loss(cost, cuts) -> float:
    """Total cost of the ordered segmentation with boundaries ``cuts`` (see :func:`segment_sequence`)."""
    c = np.asarray(cost, dtype=float)
    seg = np.searchsorted(np.asarray(cuts, dtype=int), np.arange(c.shape[0]), side="right")
    return float(c[np.arange(c.shape[0]), seg].sum())


def segment_sequence(cost, allowed=None, tol: float = 1e-9) -> Segmentation:
    """Exact optimal segmentation of an ordered sequence into K ordered, non-empty segments.

    Element i placed in segment k costs ``cost[i, k]``; segment k must come before segment
    k+1. The optimum over all cut points c_1 < ... < c_{K-1} is found by dynamic programming
    over cut points (Bellman 1961; Auger & Lawrence 1989), O(K n^2):
    F_k(j) = min_{a < j} F_{k-1}(a) + C_k(a, j), with segment costs C_k from prefix sums. A
    backward pass G gives, for each boundary, every position it takes in some optimum, and
    the number of optima is counted alongside.

    Ties: the reported ``cuts`` are the lexicographically earliest optimum; ``cut_ranges`` and
    ``n_optimal`` show how far the boundaries are determined. Costs are compared with the
    absolute tolerance ``tol`` (scaled by the loss), so integer costs tie exactly.

    Parameters
    ----------
    cost : array-like (n, K)
        Per-element, per-segment costs, e.g. :func:`stage_cost` (0 if the element's label is
        the segment's stage, 1 otherwise) or :func:`profile_cost`.
    allowed : array-like of bool (n,), optional
        ``allowed[a]`` says whether a boundary may fall just before element a (e.g. not
        between two documents of the same date). Default: everywhere.
    tol : float
        Tolerance for treating two costs as equal.

    Returns
    -------
    Segmentation

    Examples
    --------
    >>> labels = [0, 0, 1, 1, 1, 2, 3, 3]
    >>> segment_sequence(stage_cost(labels, [0, 1, 2, 3])).cuts
    (2, 5, 6)
    """
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2:
        raise ValueError(f"cost must be an (n, K) array, got shape {c.shape}")
    n, K = c.shape
    if not np.isfinite(c).all():
        raise ValueError("cost must be finite")
    ok = np.ones(n + 1, dtype=bool) if allowed is None else np.r_[np.asarray(allowed, bool), True]
    if len(ok) != n + 1:
        raise ValueError(f"allowed must have length {n}, got {len(ok) - 1}")
    ok[0] = False  # no boundary before the first element
    ok[n] = False  # nor after the last: segments are non-empty
    if n < K or ok.sum() < K - 1:
        raise ValueError(f"cannot split {n} elements into {K} non-empty segments "
                         f"with {int(ok.sum())} admissible boundaries")
    P = np.vstack([np.zeros(K), np.cumsum(c, axis=0)])  # P[j, k] = sum_{i<j} c[i, k]
    inf = np.inf
    ends = np.flatnonzero(ok)  # admissible cut positions 1..n-1
    # Forward: F[k, j] best cost of elements [0, j) in segments 0..k, j an admissible end.
    F = np.full((K, n + 1), inf)
    N = np.zeros((K, n + 1), dtype=np.int64)
    F[0, 1:] = P[1:, 0]
    N[0, 1:] = 1
    for k in range(1, K):
        for j in list(ends[ends > k]) + [n]:
            a = ends[(ends >= k) & (ends < j)]
            if a.size == 0:
                continue
            v = F[k - 1, a] + P[j, k] - P[a, k]
            best = v.min()
            if not np.isfinite(best):
                continue
            F[k, j] = best
            N[k, j] = N[k - 1, a[np.abs(v - best) <= tol * max(1.0, abs(best))]].sum()
    # only admissible ends are meaningful for k < K-1; F[K-1, n] is the optimum
    opt = F[K - 1, n]
    if not np.isfinite(opt):
        raise ValueError("no admissible segmentation")
    atol = tol * max(1.0, abs(opt))
    # Backward: G[k, a] best cost of elements [a, n) in segments k..K-1, a a segment start.
    G = np.full((K, n + 1), inf)
    G[K - 1, ends] = P[n, K - 1] - P[ends, K - 1]
    for k in range(K - 2, 0, -1):
        for a in ends:
            b = ends[ends > a]
            if b.size == 0:
                continue
            G[k, a] = (P[b, k] - P[a, k] + G[k + 1, b]).min()
    ranges = []
    for k in range(1, K):
        on = [a for a in ends if np.isfinite(F[k - 1, a]) and np.isfinite(G[k, a])
              and abs(F[k - 1, a] + G[k, a] - opt) <= atol]
        ranges.append((int(min(on)), int(max(on))))
    cuts, acc, prev = [], 0.0, 0
    for k in range(1, K):
        for a in ends[ends > prev]:
            seg = P[a, k - 1] - P[prev, k - 1]
            if np.isfinite(G[k, a]) and abs(acc + seg + G[k, a] - opt) <= atol:
                cuts.append(int(a))
                acc += seg
                prev = int(a)
                break
    return Segmentation(cuts=tuple(cuts), loss=float(opt), n_optimal=int(N[K - 1, n]),
                        cut_ranges=tuple(ranges))
