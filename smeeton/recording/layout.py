"""Where each participant goes in the composed picture: pure geometry.

Cameras share the picture as a grid. A screen share takes the main area and
the cameras stand in a strip beside it. Every coordinate is even, because
4:2:0 chroma has one sample per two pixels each way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GAP = 4
# The strip of cameras beside a screen share takes this share of the width.
STRIP_SHARE = 0.2


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    def fit(self, width: int, height: int) -> Rect:
        """The largest even rectangle of that aspect ratio centred in this one."""
        if width <= 0 or height <= 0:
            return self
        scale = min(self.width / width, self.height / height)
        w = _even(width * scale)
        h = _even(height * scale)
        return Rect(
            _even(self.x + (self.width - w) / 2),
            _even(self.y + (self.height - h) / 2),
            w,
            h,
        )

    def inset(self, by: int) -> Rect:
        return Rect(self.x + by, self.y + by, self.width - 2 * by, self.height - 2 * by)


@dataclass(frozen=True)
class Person:
    """Who is in the picture: a participant, its name, what it shows."""

    participant_id: str
    name: str
    camera: bool = False
    screen: bool = False


@dataclass(frozen=True)
class Tile:
    """One participant's place; `label` says which of its tracks fills it."""

    rect: Rect
    person: Person
    label: str  # "camera", "screen", or "" for a name on a plain tile


def arrange(width: int, height: int, people: list[Person]) -> list[Tile]:
    """The tiles for everyone, in the order given (the joining order)."""
    if not people:
        return []
    sharing = next((p for p in people if p.screen), None)
    if sharing is None:
        return _grid(Rect(0, 0, width, height), people)
    return _with_screen(width, height, sharing, people)


def _grid(area: Rect, people: list[Person]) -> list[Tile]:
    count = len(people)
    # As many columns as rows or one more: close to the 16:9 of the picture.
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    cell_w = (area.width - GAP * (columns + 1)) / columns
    cell_h = (area.height - GAP * (rows + 1)) / rows
    tiles = []
    for index, person in enumerate(people):
        row, column = divmod(index, columns)
        # The last row, if not full, is centred.
        in_row = min(columns, count - row * columns)
        offset = (columns - in_row) * (cell_w + GAP) / 2
        x = area.x + GAP + offset + column * (cell_w + GAP)
        y = area.y + GAP + row * (cell_h + GAP)
        rect = Rect(_even(x), _even(y), _even(cell_w), _even(cell_h))
        tiles.append(Tile(rect, person, "camera" if person.camera else ""))
    return tiles


def _with_screen(
    width: int, height: int, sharing: Person, people: list[Person]
) -> list[Tile]:
    strip_w = _even(width * STRIP_SHARE)
    main = Rect(GAP, GAP, width - strip_w - 3 * GAP, height - 2 * GAP)
    tiles = [Tile(_evened(main), sharing, "screen")]
    tile_h = _even(strip_w * 9 / 16)
    # LIMITATION: cameras that do not fit in the strip are heard but not
    # seen; the strip does not scroll or follow the speaker.
    fits = max((height - GAP) // (tile_h + GAP), 1)
    x = width - strip_w - GAP
    for index, person in enumerate(people[:fits]):
        y = GAP + index * (tile_h + GAP)
        rect = Rect(_even(x), _even(y), strip_w, tile_h)
        tiles.append(Tile(rect, person, "camera" if person.camera else ""))
    return tiles


def _evened(rect: Rect) -> Rect:
    return Rect(_even(rect.x), _even(rect.y), _even(rect.width), _even(rect.height))


def _even(value: float) -> int:
    return max(int(value) // 2 * 2, 0)
