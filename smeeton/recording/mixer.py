"""The audio mix: every microphone summed into one 48 kHz stereo signal.

Packets do not arrive as evenly as the mix is taken, so each source keeps a
small buffer: it joins the mix once it holds `PREBUFFER` seconds, sheds what
goes past `MAX_BUFFER` (a publisher whose clock runs fast), and drops back
to filling when it runs dry. A source with nothing to give is silence.
"""

from __future__ import annotations

from collections import deque

import numpy

from smeeton.recording.decoder import CHANNELS, SAMPLE_RATE

PREBUFFER = 0.06
MAX_BUFFER = 0.3


class Source:
    """One microphone's samples waiting to be mixed."""

    def __init__(self) -> None:
        self.chunks: deque[numpy.ndarray] = deque()
        self.buffered = 0
        self.playing = False
        self.underruns = 0

    def push(self, samples: numpy.ndarray) -> None:
        self.chunks.append(samples)
        self.buffered += len(samples)
        excess = self.buffered - int(MAX_BUFFER * SAMPLE_RATE)
        while excess > 0 and self.chunks:
            dropped = self.chunks.popleft()
            self.buffered -= len(dropped)
            excess -= len(dropped)

    def take(self, count: int, into: numpy.ndarray) -> None:
        """Add `count` samples to `into`, or fewer if the buffer runs dry."""
        if not self.playing:
            if self.buffered < PREBUFFER * SAMPLE_RATE:
                return
            self.playing = True
        filled = 0
        while filled < count and self.chunks:
            chunk = self.chunks[0]
            used = min(len(chunk), count - filled)
            into[filled : filled + used] += chunk[:used]
            if used == len(chunk):
                self.chunks.popleft()
            else:
                self.chunks[0] = chunk[used:]
            filled += used
            self.buffered -= used
        if filled < count:
            self.underruns += 1
            self.playing = False


class Mixer:
    """Sources by track id; `mix` takes the same span from each."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}

    def push(self, source_id: str, samples: numpy.ndarray) -> None:
        source = self.sources.get(source_id)
        if source is None:
            source = self.sources[source_id] = Source()
        source.push(samples)

    def remove(self, source_id: str) -> None:
        self.sources.pop(source_id, None)

    def mix(self, count: int) -> numpy.ndarray:
        """The next `count` stereo samples, float32 in -1..1, shaped (2, count)."""
        out = numpy.zeros((count, CHANNELS), numpy.float32)
        for source in self.sources.values():
            source.take(count, out)
        numpy.clip(out, -1.0, 1.0, out=out)
        return numpy.ascontiguousarray(out.T)
