"""Which sample indices of one belt boot have been logged, and which are still missing.

Samples arrive live in index order, except after an outage (the belt streams on from
its newest sample, leaving a hole) and when a RESEND fills a hole from the belt's ring.
`Coverage` keeps the frontier (one past the highest index logged) and the holes below
it. `add` returns the parts of a batch not logged before, so a sample reaches the log
once however often it arrives; `close` turns what a RESEND could not fill into a gap
that is recorded as such, never filled in.
"""

from __future__ import annotations

Span = tuple[int, int]  # [start, end)


def _cut(spans: list[Span], start: int, end: int) -> tuple[list[Span], list[Span]]:
    """(spans with [start, end) removed, the parts that were removed)."""
    kept: list[Span] = []
    removed: list[Span] = []
    for a, b in spans:
        if b <= start or a >= end:
            kept.append((a, b))
            continue
        if a < start:
            kept.append((a, start))
        if b > end:
            kept.append((end, b))
        removed.append((max(a, start), min(b, end)))
    return kept, removed


class Coverage:
    def __init__(self) -> None:
        self.first: int | None = None  # the first index logged in this boot
        self.frontier: int | None = None
        self.holes: list[Span] = []
        self.logged = 0
        self.gap_samples = 0

    @property
    def expected(self) -> int:
        """Samples from the first to the highest index seen."""
        if self.first is None or self.frontier is None:
            return 0
        return self.frontier - self.first

    @property
    def missing(self) -> int:
        """Samples in holes: not logged, not yet given up on."""
        return sum(b - a for a, b in self.holes)

    def add(self, first: int, count: int) -> list[Span]:
        """Record a batch; the sub-spans that are new, in index order."""
        end = first + count
        if count <= 0:
            return []
        if self.frontier is None or self.first is None:
            self.first, self.frontier = first, end
            self.logged += count
            return [(first, end)]
        new: list[Span] = []
        if first < self.frontier:
            self.holes, filled = _cut(self.holes, first, min(end, self.frontier))
            new.extend(filled)
        if end > self.frontier:
            start = max(first, self.frontier)
            if start > self.frontier:
                self.holes.append((self.frontier, start))
            new.append((start, end))
            self.frontier = end
        self.logged += sum(b - a for a, b in new)
        return new

    def close(self, start: int, end: int) -> list[Span]:
        """Give up on [start, end): the holes there become gaps; returns them."""
        self.holes, gone = _cut(self.holes, start, end)
        self.gap_samples += sum(b - a for a, b in gone)
        return gone
