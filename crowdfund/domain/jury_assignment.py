"""Who scores which entry: the whole panel, or k jurors per entry with balanced loads, never a conflict.

Deterministic: the same entries, jurors and conflicts always give the same assignment, whatever order
they come in. k per entry: a greedy pass (the most constrained entries first, each to the least-loaded
eligible jurors), then repair moves along alternating paths until the loads differ by at most one or
conflicts make that impossible.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    pairs: frozenset[tuple[int, int]]  # (juror, entry)
    short_entries: tuple[int, ...]  # entries with fewer than k eligible jurors (they get all there are)

    def loads(self, jurors: Iterable[int]) -> dict[int, int]:
        counts = dict.fromkeys(jurors, 0)
        for juror, _entry in self.pairs:
            counts[juror] = counts.get(juror, 0) + 1
        return counts


def assign(entries: Iterable[int], jurors: Iterable[int], conflicts: Iterable[tuple[int, int]],
           per_entry: int | None = None) -> Assignment:
    """Assign jurors to entries avoiding `conflicts` ((juror, entry) pairs): all of the panel when
    `per_entry` is None, else `per_entry` jurors per entry with loads differing by at most one."""
    entries, jurors, blocked = sorted(set(entries)), sorted(set(jurors)), set(conflicts)
    eligible = {e: [j for j in jurors if (j, e) not in blocked] for e in entries}
    if per_entry is None:
        pairs = frozenset((j, e) for e in entries for j in eligible[e])
        return Assignment(pairs, ())
    if per_entry < 1:
        raise ValueError("at least one juror per entry")
    on_entry = _greedy(entries, jurors, eligible, per_entry)
    _balance(on_entry, jurors, eligible)
    short = tuple(e for e in entries if len(eligible[e]) < per_entry)
    return Assignment(frozenset((j, e) for e, js in on_entry.items() for j in js), short)


def _greedy(entries: list[int], jurors: list[int], eligible: dict[int, list[int]], k: int) -> dict[int, set[int]]:
    load = dict.fromkeys(jurors, 0)
    on_entry: dict[int, set[int]] = {e: set() for e in entries}
    for entry in sorted(entries, key=lambda e: (len(eligible[e]), e)):
        for juror in sorted(eligible[entry], key=lambda j: (load[j], j))[:k]:
            on_entry[entry].add(juror)
            load[juror] += 1
    return on_entry


def _balance(on_entry: dict[int, set[int]], jurors: list[int], eligible: dict[int, list[int]]) -> None:
    """Move entries from the busiest jurors to the idlest along alternating paths while that helps."""
    while True:
        load = {j: 0 for j in jurors}
        for js in on_entry.values():
            for j in js:
                load[j] += 1
        if not jurors or max(load.values()) - min(load.values()) <= 1:
            return
        if not _improve(on_entry, load, eligible):
            return


def _improve(on_entry: dict[int, set[int]], load: dict[int, int], eligible: dict[int, list[int]]) -> bool:
    """Find a path juror -> ... -> a juror with at least two entries fewer (busiest first) and shift one
    entry along each step: the ends' loads move one closer, everyone else's stays."""
    for start in sorted(load, key=lambda j: (-load[j], j)):
        path = _path_from(start, on_entry, load, eligible, load[start] - 2)
        if path:
            for giver, entry, taker in path:
                on_entry[entry].remove(giver)
                on_entry[entry].add(taker)
            return True
    return False


def _path_from(start: int, on_entry: dict[int, set[int]], load: dict[int, int], eligible: dict[int, list[int]],
               target_load: int) -> list[tuple[int, int, int]] | None:
    """Breadth-first: each step hands one entry of a juror to another eligible juror not yet on it."""
    came_from: dict[int, tuple[int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        giver = queue.popleft()
        for entry in sorted(e for e, js in on_entry.items() if giver in js):
            for taker in eligible[entry]:
                if taker in came_from or taker in on_entry[entry]:
                    continue
                came_from[taker] = (giver, entry)
                if load[taker] <= target_load:
                    return _unwind(came_from, taker)
                queue.append(taker)
    return None


def _unwind(came_from: dict[int, tuple[int, int] | None], end: int) -> list[tuple[int, int, int]]:
    steps, taker = [], end
    while (link := came_from[taker]) is not None:
        giver, entry = link
        steps.append((giver, entry, taker))
        taker = giver
    return steps
