"""Counters in the Prometheus text exposition format, read off the live objects."""

from __future__ import annotations

from collections import Counter

from smeeton.rooms.registry import Rooms
from smeeton.sfu.server import MediaServer

TRACK_COUNTERS = (
    "packets_received",
    "packets_forwarded",
    "packets_lost_upstream",
    "nacks_sent",
    "retransmissions_received",
    "nacks_received",
    "retransmissions_sent",
    "keyframes_requested",
    "keyframes_received",
)


def render(media: MediaServer, rooms: Rooms, signalling_errors: Counter[str]) -> str:
    """The whole metrics page."""
    lines: list[str] = []
    _family(lines, "smeeton_rooms", "gauge", "Open rooms.", [("", len(rooms.rooms))])
    participants = sum(len(r.participants) for r in rooms.rooms.values())
    _family(
        lines, "smeeton_participants", "gauge", "Participants.", [("", participants)]
    )
    _family(
        lines,
        "smeeton_media_datagrams_received_total",
        "counter",
        "UDP datagrams received on the media port.",
        [("", media.received_datagrams)],
    )
    _family(
        lines,
        "smeeton_media_dropped_total",
        "counter",
        "Datagrams and packets dropped by the media plane, by reason.",
        [(f'reason="{r}"', n) for r, n in sorted(media.dropped.items())],
    )
    _family(
        lines,
        "smeeton_signalling_errors_total",
        "counter",
        "Signalling messages refused, by reason.",
        [(f'reason="{r}"', n) for r, n in sorted(signalling_errors.items())],
    )
    totals = Counter(media.retired_track_stats)
    for room in rooms.rooms.values():
        for participant in room.participants.values():
            for track in participant.tracks:
                for name in TRACK_COUNTERS:
                    totals[name] += getattr(track.stats, name)
    for name in TRACK_COUNTERS:
        _family(
            lines,
            f"smeeton_track_{name}_total",
            "counter",
            f"Sum over tracks of {name.replace('_', ' ')}.",
            [("", totals[name])],
        )
    return "\n".join(lines) + "\n"


def _family(
    lines: list[str],
    name: str,
    kind: str,
    help_text: str,
    samples: list[tuple[str, int]],
) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        lines.append(f"{name}{{{labels}}} {value}" if labels else f"{name} {value}")
