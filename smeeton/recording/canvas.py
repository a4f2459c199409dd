"""The composed picture: decoded frames, names and borders painted in 4:2:0.

The canvas is one yuv420p image held as a numpy array, so that painting a
tile is a scale by swscale and a copy of three planes, and the finished
picture goes to the encoder without a colour conversion.
"""

from __future__ import annotations

import av
import numpy
from PIL import Image, ImageDraw, ImageFont

from smeeton.recording.layout import Rect

# Colours as (Y, U, V), BT.601 limited range.
BLACK = (16, 128, 128)
TILE = (40, 128, 128)
SPEAKER = (210, 16, 146)  # yellow
BORDER = 4


class Canvas:
    """A picture of a fixed size that tiles are painted onto each frame."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.image = numpy.empty((height * 3 // 2, width), numpy.uint8)
        self.y, self.u, self.v = _planes(self.image, width, height)
        self._labels: dict[tuple[str, int], numpy.ndarray] = {}
        self.clear()

    def clear(self) -> None:
        self.fill(Rect(0, 0, self.width, self.height), BLACK)

    def fill(self, rect: Rect, colour: tuple[int, int, int]) -> None:
        y, u, v = colour
        self.y[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width] = y
        self._chroma(rect, self.u)[:] = u
        self._chroma(rect, self.v)[:] = v

    def blit(self, rect: Rect, planes: numpy.ndarray) -> None:
        """Copy a yuv420p image of exactly the rectangle's size."""
        w, h = rect.width, rect.height
        y, u, v = _planes(planes, w, h)
        self.y[rect.y : rect.y + h, rect.x : rect.x + w] = y
        self._chroma(rect, self.u)[:] = u
        self._chroma(rect, self.v)[:] = v

    def border(self, rect: Rect, colour: tuple[int, int, int]) -> None:
        """A frame of `BORDER` pixels just inside the rectangle."""
        x, y, w, h = rect.x, rect.y, rect.width, rect.height
        for side in (
            Rect(x, y, w, BORDER),
            Rect(x, y + h - BORDER, w, BORDER),
            Rect(x, y, BORDER, h),
            Rect(x + w - BORDER, y, BORDER, h),
        ):
            self.fill(side, colour)

    def label(self, rect: Rect, name: str, centred: bool = False) -> None:
        """A name in white on a dark box, at the bottom left of the tile."""
        size = max(rect.height // 12, 10)
        mask = self._label_mask(name, size)
        pad = max(size // 3, 2) // 2 * 2
        h = min(mask.shape[0], rect.height - 2 * pad)
        w = min(mask.shape[1], rect.width - 2 * pad)
        if w <= 0 or h <= 0:
            return
        if centred:
            x = rect.x + (rect.width - w) // 2 // 2 * 2
            y = rect.y + (rect.height - h) // 2 // 2 * 2
        else:
            x = rect.x + pad
            y = rect.y + rect.height - h - pad
        box = self.y[max(y - pad // 2, 0) : y + h + pad // 2, x - pad : x + w + pad]
        box[:] = box // 3
        region = self.y[y : y + h, x : x + w]
        alpha = mask[:h, :w]
        region[:] = (region * (255 - alpha) + 235 * alpha.astype(numpy.uint16)) // 255

    def frame(self) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(self.image, format="yuv420p")

    def _chroma(self, rect: Rect, plane: numpy.ndarray) -> numpy.ndarray:
        x, y = rect.x // 2, rect.y // 2
        return plane[y : y + rect.height // 2, x : x + rect.width // 2]

    def _label_mask(self, name: str, size: int) -> numpy.ndarray:
        key = (name, size)
        mask = self._labels.get(key)
        if mask is None:
            if len(self._labels) > 256:
                self._labels.clear()
            font = ImageFont.load_default(size=size)
            left, top, right, bottom = font.getbbox(name)
            image = Image.new("L", (max(right - left, 1), max(bottom - top, 1)))
            ImageDraw.Draw(image).text((-left, -top), name, fill=255, font=font)
            mask = numpy.asarray(image, numpy.uint16)
            self._labels[key] = mask
        return mask


def _planes(
    image: numpy.ndarray, width: int, height: int
) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Views of the Y, U and V planes of a yuv420p image as PyAV lays it out:
    one array of height * 3 / 2 rows, the chroma planes flat after Y."""
    flat = image.reshape(-1)
    luma = width * height
    chroma = (width // 2) * (height // 2)
    y = flat[:luma].reshape(height, width)
    u = flat[luma : luma + chroma].reshape(height // 2, width // 2)
    v = flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2)
    return y, u, v
