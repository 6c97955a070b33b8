"""The class-size histogram: the one sufficient statistic of every sample measure.

Every sample measure of a partition (k, sample uniques and pairs, records and classes below a
threshold, prosecutor risk, the population estimators) is a function of the histogram
``class size -> number of classes``, as in ARX's ``RiskModelHistogram``. :class:`SizeHistogram`
holds it and answers those questions for many thresholds at once, with cumulative sums and a
binary search. The same object describes the cells of a frequency table (cell count -> number of
cells), where "records" are the units counted in the cells.

Two threshold conventions, each named in the methods and in the output columns:

* *below t*: classes of size ``< t`` (k-anonymity: the records violating t-anonymity);
* *at most t*: classes or cells of size ``0 < size <= t`` (the threshold rule for cells, as in
  mu-Argus and sdcMicro's ``riskyCells``).

Histograms are mergeable: the histogram of a union of disjoint class sets is the sum
(:meth:`SizeHistogram.merge`), so partial histograms (for example from a cluster) combine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

from .._render import Displayed

__all__ = ["SizeHistogram", "below", "weighted_below"]


@dataclass(frozen=True, eq=False)
class SizeHistogram(Displayed):
    """Class sizes and how many classes have each size.

    Parameters
    ----------
    sizes : numpy.ndarray of int64
        The distinct class sizes (cell counts), ascending, all at least 1.
    counts : numpy.ndarray of int64
        Number of classes of each size.

    Attributes
    ----------
    n_records : int
        :math:`n = \\sum_s s \\, c_s`.
    n_classes : int
        :math:`\\sum_s c_s`.
    k : int
        Smallest class size (0 for an empty histogram).
    n_unique, n_pairs : int
        Records in classes of size 1 and of size 2 (sdcMicro's ``n1``/``n2`` count records).
    average_risk : float
        Average prosecutor risk :math:`\\frac{1}{n}\\sum_i 1/f_k(i) = \\text{classes}/n`.
    highest_risk : float
        :math:`1/k`.

    Examples
    --------
    >>> h = SizeHistogram.from_class_sizes([1, 1, 2, 3, 3])
    >>> h.n_records, h.n_classes, h.k, h.n_unique, h.records_below([2, 3]).tolist()
    (10, 5, 1, 2, [2, 4])
    """

    sizes: np.ndarray
    counts: np.ndarray

    @classmethod
    def from_class_sizes(
        cls, class_sizes: ArrayLike, *, extra_singletons: int = 0
    ) -> SizeHistogram:
        """Histogram of an array of class sizes (zeros are ignored), plus ``extra_singletons``
        classes of size 1 that were counted elsewhere."""
        sizes = np.asarray(class_sizes, dtype=np.int64)
        sizes = sizes[sizes > 0]
        if sizes.shape[0] == 0:
            distinct, counts = np.zeros(0, np.int64), np.zeros(0, np.int64)
        else:
            largest = int(sizes.max())
            if largest <= 4 * sizes.shape[0] + (1 << 16):
                tally = np.bincount(sizes, minlength=largest + 1)
                distinct = np.flatnonzero(tally).astype(np.int64)
                counts = tally[distinct].astype(np.int64)
            else:
                ordered = np.sort(sizes)
                starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
                distinct = ordered[starts]
                counts = np.diff(np.append(starts, ordered.shape[0])).astype(np.int64)
        return cls(distinct, counts).with_singletons(extra_singletons)

    def with_singletons(self, extra: int) -> SizeHistogram:
        """This histogram with ``extra`` more classes of size 1 (counted elsewhere)."""
        if not extra:
            return self
        return self.merge(SizeHistogram(np.ones(1, np.int64), np.full(1, extra, np.int64)))

    @classmethod
    def empty(cls) -> SizeHistogram:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))

    def merge(self, other: SizeHistogram) -> SizeHistogram:
        """The histogram of the union of two disjoint sets of classes."""
        sizes = np.concatenate([self.sizes, other.sizes])
        counts = np.concatenate([self.counts, other.counts])
        distinct, inverse = np.unique(sizes, return_inverse=True)
        total = np.bincount(inverse, weights=counts, minlength=distinct.shape[0]).astype(np.int64)
        keep = total > 0
        return SizeHistogram(distinct[keep].astype(np.int64), total[keep])

    # -- totals ------------------------------------------------------------------------------

    @cached_property
    def n_records(self) -> int:
        return int(np.dot(self.sizes, self.counts))

    @cached_property
    def n_classes(self) -> int:
        return int(self.counts.sum())

    @property
    def k(self) -> int:
        return int(self.sizes[0]) if self.sizes.shape[0] else 0

    def _records_of_size(self, size: int) -> int:
        hit = np.flatnonzero(self.sizes == size)
        return int(self.counts[hit[0]]) * size if hit.shape[0] else 0

    @property
    def n_unique(self) -> int:
        return self._records_of_size(1)

    @property
    def n_pairs(self) -> int:
        return self._records_of_size(2)

    @property
    def average_risk(self) -> float:
        return self.n_classes / self.n_records if self.n_records else float("nan")

    @property
    def highest_risk(self) -> float:
        return 1.0 / self.k if self.k else float("nan")

    # -- thresholds --------------------------------------------------------------------------

    def _cumulative(
        self, thresholds, side: Literal["left", "right"]
    ) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(thresholds, dtype=np.float64)
        idx = np.searchsorted(self.sizes, t, side=side)
        cum_classes = np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])
        cum_records = np.concatenate([[0], np.cumsum(self.sizes * self.counts, dtype=np.int64)])
        return cum_classes[idx], cum_records[idx]

    def records_below(self, thresholds: ArrayLike) -> np.ndarray:
        """Records in classes of size ``< t``, per threshold."""
        return self._cumulative(thresholds, "left")[1]

    def classes_below(self, thresholds: ArrayLike) -> np.ndarray:
        """Classes of size ``< t``, per threshold."""
        return self._cumulative(thresholds, "left")[0]

    def records_at_most(self, thresholds: ArrayLike) -> np.ndarray:
        """Records in classes (cells) of size ``<= t``, per threshold."""
        return self._cumulative(thresholds, "right")[1]

    def classes_at_most(self, thresholds: ArrayLike) -> np.ndarray:
        """Classes (cells) of size ``<= t``, per threshold."""
        return self._cumulative(thresholds, "right")[0]

    def to_frame(self) -> pd.DataFrame:
        """One row per distinct size: ``size``, ``n_classes``, ``n_records``."""
        import pandas as pd

        return pd.DataFrame(
            {"size": self.sizes, "n_classes": self.counts, "n_records": self.sizes * self.counts}
        )

    def __repr__(self) -> str:
        from .. import _format as fmt

        return (
            f"SizeHistogram(n_records={fmt.count(self.n_records)}, n_classes={fmt.count(self.n_classes)}, "
            f"k={self.k}, n_unique={fmt.count_pct(self.n_unique, self.n_records) if self.n_records else 0}, "
            f"distinct sizes={self.sizes.shape[0]})"
        )


def below(sizes: np.ndarray, n_of_size: np.ndarray, thresholds, *, inclusive: bool = False):
    """Classes and records in classes of size ``< t`` (``<= t`` when ``inclusive``), per threshold.

    The array form of :meth:`SizeHistogram.classes_below` / :meth:`SizeHistogram.records_below`.
    """
    hist = SizeHistogram(np.asarray(sizes, dtype=np.int64), np.asarray(n_of_size, dtype=np.int64))
    return hist._cumulative(thresholds, "right" if inclusive else "left")


def weighted_below(values: np.ndarray, thresholds, *, inclusive: bool = False) -> np.ndarray:
    """Number of ``values`` ``< t`` (``<= t`` when ``inclusive``) per threshold."""
    ordered = np.sort(values)
    side: Literal["left", "right"] = "right" if inclusive else "left"
    return np.searchsorted(ordered, np.asarray(thresholds, dtype=np.float64), side=side).astype(
        np.int64
    )
