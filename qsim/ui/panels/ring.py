"""A preallocated ring buffer whose contents are always one contiguous numpy view.

Every value is written twice, at ``i`` and ``i + capacity`` of a buffer twice
the capacity, so the last ``n`` values are ``buf[start:start + n]`` without a
copy: a plot can ``setData`` a slice of it every frame, and memory stays
bounded however long the run (pyqtgraph ``examples/scrollingPlots.py`` shows
the scrolling-plot patterns this replaces). No Qt here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class Ring:
    """The last ``capacity`` values appended, oldest first.

    Parameters
    ----------
    capacity
        how many values are kept; older ones are overwritten.
    dtype
        numpy dtype of the values.
    fill
        value of the slots a late-created ring back-fills (``pad``).
    """

    def __init__(
        self, capacity: int, dtype: npt.DTypeLike = np.float64, fill: float = np.nan
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.fill = fill
        self._buf: np.ndarray = np.full(2 * capacity, fill, dtype=dtype)
        self._next = 0  # where the next value goes, in [0, capacity)
        self.count = 0  # values ever appended (may exceed capacity)

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def append(self, value: float) -> None:
        i = self._next
        self._buf[i] = value
        self._buf[i + self.capacity] = value
        self._next = i + 1 if i + 1 < self.capacity else 0
        self.count += 1

    def pad(self, n: int) -> None:
        """Append ``n`` fill values (a series that starts later than the others)."""
        for _ in range(min(n, self.capacity)):
            self.append(self.fill)
        self.count += max(0, n - self.capacity)

    def values(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """The kept values oldest first (``[start:stop]`` of them): a view, no copy."""
        n = len(self)
        first = self._next if self.count >= self.capacity else 0
        lo = min(max(start, 0), n)
        hi = n if stop is None else min(max(stop, lo), n)
        return self._buf[first + lo : first + hi]

    def last(self, default: float = np.nan) -> float:
        if not self.count:
            return default
        return float(self._buf[self._next - 1 + (self.capacity if self._next == 0 else 0)])

    @property
    def dropped(self) -> int:
        """How many of the oldest values were overwritten."""
        return max(0, self.count - self.capacity)

    def clear(self) -> None:
        self._buf.fill(self.fill)
        self._next = 0
        self.count = 0
