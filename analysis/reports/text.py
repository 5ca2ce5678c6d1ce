"""Plain-language sentences of the reports, computed from the numbers, in either language.

Every phrase a reader sees is a row of ``data/raw/terms.csv`` whose key starts with
``report.`` (columns ``en`` and ``zh``; placeholders in braces, e.g. ``{lower}``); element
names come from the codebook, community types and grades from the other terms. Numbers are
inserted as tagged spans (:func:`number`), ``<span data-field="score_eb" data-community="C03">
68.7</span>``, so that a test can check every number on a page against the tables, and every
other digit a page shows is tagged as a constant of the method (:func:`const`) or part of an
identifier (:func:`ident`) or of catalogue text (:func:`quoted`).

Verdicts follow the intervals: a community is called the highest or the lowest only when its
rank interval holds that one rank, "in the upper half" only when its whole interval lies there
(Goldstein & Spiegelhalter 1996), and no sentence says what an office should do.

References
----------
Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their limitations. *Journal of
the Royal Statistical Society A*, 159(3), 385-443.
Spiegelhalter, D. (2017). Risk and uncertainty communication. *Annual Review of Statistics and
Its Application*, 4, 31-60 (uncertainty in plain words, ranges rather than points).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping

import pandas as pd

from analysis.io.terms import check_language, glossary, load_terms, translate

__all__ = ["PREFIX", "Phrases", "number", "const", "ident", "quoted", "ordinal", "rank_phrase",
           "half_phrase", "grade_phrase"]

#: Key prefix of the report phrases in ``data/raw/terms.csv``.
PREFIX = "report."
_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")


class Phrases:
    """The report phrases of one language, with the glossary for types and grades.

    Parameters
    ----------
    labels : {"en", "zh"}
    terms : path or DataFrame, optional
        A terms table other than ``data/raw/terms.csv``.

    Examples
    --------
    >>> zh = Phrases("zh")
    >>> zh.term("old neighbourhood"), zh.term("幸福小区")
    ('老旧小区', '幸福小区')
    """

    def __init__(self, labels: str = "en", terms=None):
        self.labels = check_language(labels)
        table = terms if isinstance(terms, pd.DataFrame) else load_terms(terms)
        rows = table[table["key"].str.startswith(PREFIX)]
        self._phrases = dict(zip(rows["key"], rows[labels]))
        self._glossary = glossary(labels) if labels != "en" else {}
        self._terms = dict(zip(table["key"], table[labels]))

    def __call__(self, key: str, **values: str) -> str:
        """The phrase ``report.<key>`` as HTML, with ``values`` (HTML already) inserted.

        Parameters
        ----------
        key : str
            Without the ``report.`` prefix.
        **values : str
            One HTML fragment per placeholder.

        Returns
        -------
        str

        Raises
        ------
        KeyError
            Naming the key when ``terms.csv`` lacks it or a placeholder has no value.

        Examples
        --------
        >>> Phrases("en")("rank.between", lower="3rd", upper="9th", n="47")
        'between 3rd and 9th of 47 communities'
        """
        full = PREFIX + key
        if full not in self._phrases:
            raise KeyError(f"data/raw/terms.csv has no row {full!r} (add it with columns en, zh)")
        template = html.escape(self._phrases[full], quote=False)
        wanted = set(_PLACEHOLDER.findall(template))
        missing = wanted - set(values)
        if missing:
            raise KeyError(f"phrase {full!r} needs {', '.join(sorted(missing))}")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)

    def plain(self, key: str, **values: str) -> str:
        """The phrase ``report.<key>`` as plain text (for figures), ``values`` inserted as text.

        Parameters
        ----------
        key : str
        **values : str

        Returns
        -------
        str

        Examples
        --------
        >>> Phrases("zh").plain("fig.same_type", type="老旧小区")
        '同类（老旧小区）'
        """
        escaped = {k: html.escape(str(v), quote=False) for k, v in values.items()}
        return html.unescape(self(key, **escaped))

    def term(self, text: str) -> str:
        """A community type, grade or other term of ``terms.csv`` in this language.

        Parameters
        ----------
        text : str
            The English term (e.g. ``"good"``) or a user's own value (kept as it is).

        Returns
        -------
        str
        """
        return translate(str(text), self._glossary) if self._glossary else str(text)

    def key(self, key: str) -> str:
        """A row of ``terms.csv`` by its key (any prefix), e.g. ``"grade.good"``.

        Parameters
        ----------
        key : str

        Returns
        -------
        str

        Examples
        --------
        >>> Phrases("zh").key("grade.good")
        '良'
        """
        return self._terms[key]

    def grade(self, grade: str) -> str:
        """A grade's name (``grade.<grade>`` of ``terms.csv``, else the grade as it is).

        Parameters
        ----------
        grade : str

        Returns
        -------
        str

        Examples
        --------
        >>> Phrases("zh").grade("fair"), Phrases("en").grade("fair")
        ('中', 'fair')
        """
        return self._terms.get(f"grade.{grade}", self.term(grade))


def _attrs(attrs: Mapping[str, object]) -> str:
    return "".join(f' {k}="{html.escape(str(v))}"' for k, v in attrs.items() if v is not None)


def number(value: float, field: str, *, community: str | None = None,
           element: str | None = None, digits: int = 1, scale: float = 1.0,
           signed: bool = False) -> str:
    """A number from the tables as a tagged span, rounded to ``digits`` decimals.

    The span carries what a test needs to check it: ``data-field`` (the table column or the
    quantity), ``data-community`` and ``data-element`` (which row), ``data-digits`` and
    ``data-scale`` (how it was rounded: ``round(value * scale, digits)``). A probability that
    would round to 0 or 100 while it is not exactly 0 or 1 is shown as ``<1`` or ``>99``.
    Negative numbers use the minus sign (U+2212).

    Parameters
    ----------
    value : float
    field : str
    community, element : str, optional
    digits : int
        Decimals shown.
    scale : float
        Multiplier before rounding (100 for a percentage).
    signed : bool
        Show ``+`` before a positive number (differences).

    Returns
    -------
    str

    Examples
    --------
    >>> number(68.7348, "score_eb", community="C03")
    '<span class="num" data-field="score_eb" data-community="C03" data-digits="1">68.7</span>'
    >>> number(0.999, "p_good", community="C03", digits=0, scale=100).endswith('>&gt;99</span>')
    True
    """
    v = float(value) * scale
    if not math.isfinite(v):
        raise ValueError(f"{field}: no value to show ({value!r})")
    text = f"{v:.{digits}f}"
    if scale == 100 and digits == 0:
        if text == "0" and v > 0:
            text = "<1"
        elif text == "100" and v < 100:
            text = ">99"
    if re.fullmatch(r"-[0.]+", text):
        text = text[1:]
    if signed and not text.startswith(("-", "<", ">")) and float(text) != 0:
        text = "+" + text
    text = text.replace("-", "\u2212")
    attrs = {"class": "num", "data-field": field, "data-community": community,
             "data-element": element, "data-digits": digits,
             "data-scale": None if scale == 1 else f"{scale:g}"}
    return f"<span{_attrs(attrs)}>{html.escape(text, quote=False)}</span>"


def const(text: str) -> str:
    """A constant of the method a sentence names (the 95% level, the 0-100 scale) as a span.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> const("95")
    '<span data-const="95">95</span>'
    """
    return f'<span data-const="{html.escape(text)}">{html.escape(text, quote=False)}</span>'


def ident(text: str, kind: str = "community") -> str:
    """An identifier (community id, element code, item or problem id) as a span.

    Parameters
    ----------
    text : str
    kind : str

    Returns
    -------
    str

    Examples
    --------
    >>> ident("C03")
    '<span data-id="community">C03</span>'
    """
    return f'<span data-id="{html.escape(kind)}">{html.escape(str(text), quote=False)}</span>'


def quoted(text: str, kind: str) -> str:
    """Text taken verbatim from a bilingual table (catalogue action, item wording) as a span.

    Parameters
    ----------
    text : str
    kind : str
        What the text is, e.g. ``"action"``.

    Returns
    -------
    str

    Examples
    --------
    >>> quoted("Hold monthly meetings & publish minutes.", "action")
    '<span data-text="action">Hold monthly meetings &amp; publish minutes.</span>'
    """
    return f'<span data-text="{html.escape(kind)}">{html.escape(str(text), quote=False)}</span>'


def ordinal(span: str, rank: float, labels: str) -> str:
    """A tagged rank with its English ordinal suffix (``3rd``); Chinese phrases carry 第...名.

    Parameters
    ----------
    span : str
        The rank from :func:`number`.
    rank : float
    labels : {"en", "zh"}

    Returns
    -------
    str

    Examples
    --------
    >>> ordinal("3", 3, "en"), ordinal("12", 12, "en"), ordinal("3", 3, "zh")
    ('3rd', '12th', '3')
    """
    if labels != "en" or float(rank) != int(rank):
        return span
    n = int(rank)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return span + suffix


def rank_phrase(p: Phrases, lower: float, upper: float, n: int, *, field: str = "rank",
                community: str | None = None, of: str = "rank.between") -> str:
    """Where a rank interval puts a community, in plain words.

    "the highest of all 47 communities" only when the interval is rank 1 alone, "the lowest"
    only when it is the last rank alone; otherwise "between 3rd and 9th of 47 communities".

    Parameters
    ----------
    p : Phrases
    lower, upper : float
        The interval's best and worst rank.
    n : int
        Communities ranked.
    field : str
        Stem of the tagged fields (``<field>_lower``, ``<field>_upper``, ``n_<...>``).
    community : str, optional
    of : str
        The phrase for the general case (``rank.between`` or ``typerank.between``).

    Returns
    -------
    str

    Examples
    --------
    >>> import re
    >>> strip = lambda s: re.sub("<[^>]+>", "", s)
    >>> strip(rank_phrase(Phrases("en"), 3, 9, 47))
    'between 3rd and 9th of 47 communities'
    >>> strip(rank_phrase(Phrases("en"), 1, 1, 47))
    'the highest of all 47 communities (its rank interval holds the top rank only)'
    """
    n_field = "n_communities" if of == "rank.between" else "n_type"
    n_span = number(n, n_field, community=community, digits=0)
    lo = number(lower, f"{field}_lower", community=community, digits=0)
    hi = number(upper, f"{field}_upper", community=community, digits=0)
    kind = "rank" if of == "rank.between" else "typerank"
    if lower == upper == 1 and n > 1:
        return p(f"{kind}.top", n=n_span, lower=lo)
    if lower == upper == n and n > 1:
        return p(f"{kind}.bottom", n=n_span, lower=lo)
    if lower == upper:
        return p(f"{kind}.exact", n=n_span, lower=ordinal(lo, lower, p.labels))
    return p(of, n=n_span, lower=ordinal(lo, lower, p.labels), upper=ordinal(hi, upper, p.labels))


def half_phrase(p: Phrases, lower: float, upper: float, n: int) -> str:
    """Whether the whole rank interval lies in the upper or the lower half, in plain words.

    Parameters
    ----------
    p : Phrases
    lower, upper : float
    n : int

    Returns
    -------
    str

    Examples
    --------
    >>> half_phrase(Phrases("en"), 30, 40, 47)
    'it is clearly in the lower half, even at the high end of its interval'
    """
    middle = (n + 1) / 2
    if upper < middle:
        return p("half.upper")
    if lower > middle:
        return p("half.lower")
    return p("half.unclear")


def grade_phrase(p: Phrases, probs: Mapping[str, float], community: str) -> str:
    """The grade a community most likely has, with the probability, in plain words.

    "almost certainly good" when one grade has a probability of 95% or more; otherwise the
    most likely grade and the next one with their probabilities.

    Parameters
    ----------
    p : Phrases
    probs : mapping
        Grade -> probability (``p_<grade>`` of ``community-ranks``).
    community : str

    Returns
    -------
    str

    Examples
    --------
    >>> import re
    >>> s = grade_phrase(Phrases("en"), {"good": 0.64, "fair": 0.36}, "C01")
    >>> re.sub("<[^>]+>", "", s)
    'most likely “good” (64%), otherwise “fair” (36%)'
    """
    order = sorted(probs, key=lambda g: (-probs[g], list(probs).index(g)))
    first = order[0]
    name = lambda g: html.escape(p.grade(g))
    pct = lambda g: number(probs[g], f"p_{g}", community=community, digits=0, scale=100)
    if probs[first] >= 0.95 or len(order) == 1 or probs[order[1]] == 0:
        return p("grade.settled", grade=name(first), p=pct(first))
    second = order[1]
    return p("grade.likely", grade=name(first), p=pct(first), grade2=name(second), p2=pct(second))
