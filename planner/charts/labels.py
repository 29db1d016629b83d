"""Greedy label placement: each label takes the first free spot around its point, nearest first.

A spot is free when its box stays inside the frame and overlaps neither a label placed before nor any marker
other than the label's own. A label that finds no free spot near its point is moved further out along one of
eight directions and drawn with a leader line; one that finds none at all is left out (the caller says so), so
two labels never overlap. Labels are placed in the order given: put the important ones first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Unit directions, tried in this order at each distance: right and left of the point first (text reads well
# there), then the diagonals, then above and below.
_DIRECTIONS = ((1, 0), (-1, 0), (1, -1), (1, 1), (-1, -1), (-1, 1), (0, -1), (0, 1))
_DISTANCES = (0.0, 12.0, 26.0, 44.0, 66.0)  # px beyond the marker; 0 = beside it, no leader line
_CELL = 32.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def intersects(self, other: Box) -> bool:
        return not (self.right <= other.x or other.right <= self.x or self.bottom <= other.y or other.bottom <= self.y)

    def inside(self, frame: Box) -> bool:
        return self.x >= frame.x and self.y >= frame.y and self.right <= frame.right and self.bottom <= frame.bottom


@dataclass(frozen=True)
class LabelRequest:
    key: str
    x: float  # the point labelled
    y: float
    width: float  # the label box
    height: float
    radius: float = 4.0  # the point's marker


@dataclass(frozen=True)
class PlacedLabel:
    key: str
    box: Box
    leader: tuple[float, float, float, float] | None  # from the marker's edge to the box, when moved away


def text_width(text: str, size: float) -> float:
    """An estimate of the drawn width: full-width (CJK) characters are about one em, others about 0.6 em."""
    return sum(size if ord(c) >= 0x2E80 else 0.6 * size for c in text)


class _Grid:
    """Boxes bucketed by cell, so that a check looks only at the boxes near the spot."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[tuple[str, Box]]] = {}

    def _cells(self, box: Box) -> Iterable[tuple[int, int]]:
        for i in range(math.floor(box.x / _CELL), math.floor(box.right / _CELL) + 1):
            for j in range(math.floor(box.y / _CELL), math.floor(box.bottom / _CELL) + 1):
                yield i, j

    def add(self, key: str, box: Box) -> None:
        for cell in self._cells(box):
            self.cells.setdefault(cell, []).append((key, box))

    def hits(self, box: Box, ignore: str | None = None) -> bool:
        for cell in self._cells(box):
            for key, other in self.cells.get(cell, ()):
                if key != ignore and box.intersects(other):
                    return True
        return False


def place_labels(
    requests: Sequence[LabelRequest], frame: Box, obstacles: Iterable[tuple[str, Box]] = ()
) -> tuple[list[PlacedLabel], list[str]]:
    """(placed labels, keys of labels left out). ``obstacles`` are (key, box) of markers; a label may touch the
    marker with its own key (its point) only through the gap kept around it."""
    markers = _Grid()
    for key, box in obstacles:
        markers.add(key, box)
    labels = _Grid()
    placed: list[PlacedLabel] = []
    left_out: list[str] = []
    for r in requests:
        spot = _first_free_spot(r, frame, markers, labels)
        if spot is None:
            left_out.append(r.key)
            continue
        labels.add(r.key, spot.box)
        placed.append(spot)
    return placed, left_out


def _first_free_spot(r: LabelRequest, frame: Box, markers: _Grid, labels: _Grid) -> PlacedLabel | None:
    gap = r.radius + 3.0
    for distance in _DISTANCES:
        for dx, dy in _DIRECTIONS:
            norm = math.hypot(dx, dy)
            ux, uy = dx / norm, dy / norm
            # The point where the label's box is attached, gap + distance away from the point.
            ax, ay = r.x + ux * (gap + distance), r.y + uy * (gap + distance)
            bx = ax if dx > 0 else ax - r.width if dx < 0 else ax - r.width / 2
            by = ay if dy > 0 else ay - r.height if dy < 0 else ay - r.height / 2
            box = Box(bx, by, r.width, r.height)
            if not box.inside(frame) or labels.hits(box) or markers.hits(box, ignore=r.key):
                continue
            leader = None
            if distance > 0:
                leader = (r.x + ux * r.radius, r.y + uy * r.radius, ax, ay)
            return PlacedLabel(r.key, box, leader)
    return None
