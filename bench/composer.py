"""What the composer costs: camera publishers at 720p30 into a recording and
one live stream at once, as a share of one core.

The composer runs in this process and is fed exactly what a track hands it:
rewritten RTP packets, here replayed from pre-encoded VP8 and Opus (one
feeding thread, at real time, each publisher offset so that key frames do
not line up). It decodes every track, lays out and mixes, encodes H.264 +
AAC once and muxes into an MP4 file and an RTMP stream to Debian's nginx on
loopback. Over a steady window the process CPU time (every thread: the
composer's, x264's and the outputs') minus the feeding thread's is the
composer's cost. The forwarding to the composer is one more subscriber of
each track and is measured by bench/forward.py.

    python bench/composer.py --publishers 4 --seconds 20
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.load.recording import Recording, record_audio, record_video  # noqa: E402
from smeeton.recording.composer import Composer  # noqa: E402
from smeeton.recording.outputs import (  # noqa: E402
    EncoderSettings,
    FileOutput,
    Output,
    StreamOutput,
)
from tests import rtmp  # noqa: E402

CACHE = ROOT / "build" / "bench"
_RTP = struct.Struct("!BBHII")


@dataclass(frozen=True)
class Result:
    publishers: int
    width: int
    height: int
    fps: int
    preset: str
    seconds: float
    # CPU seconds per second: 1.0 is one core busy.
    composer_cpu_share: float
    composer_thread_share: float
    feeder_cpu_share: float
    frames_encoded_per_second: float
    # On a busy machine the clock skips output frames. Scaled to the full
    # frame rate, the cost per output frame bounds what a free core would
    # see from above (decoding is paid in full either way).
    cpu_ms_per_frame: float
    share_at_full_rate: float
    frames_skipped: int
    stream: str
    stream_status: str
    recording_bytes: int


def media(seconds: float, width: int, height: int) -> tuple[Recording, Recording]:
    """Pre-encoded camera and microphone, made once and kept in build/."""
    CACHE.mkdir(parents=True, exist_ok=True)
    video_path = CACHE / f"vp8-{width}x{height}-30fps-2500k-{seconds:g}s.rec"
    audio_path = CACHE / f"opus-{seconds:g}s.rec"
    if not video_path.exists():
        record_video(seconds, width, height, 30, 2_500_000).save(video_path)
    if not audio_path.exists():
        record_audio(seconds).save(audio_path)
    return Recording.load(audio_path), Recording.load(video_path)


class Feeder(threading.Thread):
    """Replays recordings as RTP packets into the composer, in real time."""

    def __init__(self, streams, stop: threading.Event) -> None:
        super().__init__(name="feeder", daemon=True)
        # (send, recording, payload type, ssrc, offset in seconds)
        self.streams = streams
        self.stop_event = stop
        self.cpu = 0.0

    def run(self) -> None:
        schedule = []
        for send, recording, pt, ssrc, offset in self.streams:
            first = recording.frames[0].timestamp
            loop_ts = round(recording.duration * recording.clock_rate)
            schedule.append([send, recording, pt, ssrc, offset, first, loop_ts, 0, 0])
        start = time.monotonic()
        while not self.stop_event.is_set():
            now = time.monotonic() - start
            for entry in schedule:
                send, recording, pt, ssrc, offset, first, loop_ts, index, seq = entry
                frames = recording.frames
                while True:
                    loop, at = divmod(index, len(frames))
                    frame = frames[at]
                    due = offset + loop * recording.duration + frame.at
                    if due > now:
                        break
                    ts = (frame.timestamp - first + loop * loop_ts) & 0xFFFFFFFF
                    last = len(frame.payloads) - 1
                    for n, payload in enumerate(frame.payloads):
                        marker = 0x80 if n == last else 0
                        header = _RTP.pack(0x80, marker | pt, seq, ts, ssrc)
                        send(header + payload)
                        seq = (seq + 1) & 0xFFFF
                    index += 1
                entry[7], entry[8] = index, seq
            self.cpu = time.thread_time()
            time.sleep(0.002)


def nothing(*args: object) -> None:
    pass


def run(args: argparse.Namespace) -> Result:
    audio, video = media(args.loop_seconds, args.width, args.height)
    settings = EncoderSettings(
        width=args.width, height=args.height, fps=args.fps, preset=args.preset
    )
    composer = Composer(settings)
    streams = []
    people = []
    for i in range(args.publishers):
        pid = f"p{i}"
        people.append((pid, f"Camera {i + 1}"))
        offset = i * 0.37
        send_v = composer.feed(f"v{i}", pid, "video", "camera", "VP8", nothing)
        send_a = composer.feed(f"a{i}", pid, "audio", "microphone", "opus", nothing)
        streams.append((send_v, video, 96, 0x1000 + i, offset))
        streams.append((send_a, audio, 111, 0x2000 + i, offset))
    composer.set_participants(people)

    work = Path(tempfile.mkdtemp(prefix="smeeton-composer-bench-"))
    nginx = None
    if rtmp.available():
        nginx = rtmp.RtmpServer(work / "nginx").start()
    composer.start()
    outputs: list[Output] = [
        FileOutput(composer.encoder, work / "recording.mp4", nothing)
    ]
    if nginx is not None:
        outputs.append(StreamOutput(composer.encoder, nginx.url + "/bench", nothing))
        stream = "rtmp to nginx on loopback"
    else:
        # Without nginx a second file stands in for the stream.
        outputs.append(FileOutput(composer.encoder, work / "stream.mp4", nothing))
        stream = "a second MP4 file (nginx with RTMP not installed)"
    for output in outputs:
        composer.add_output(output)

    stop = threading.Event()
    feeder = Feeder(streams, stop)
    feeder.start()
    try:
        time.sleep(args.warmup)
        cpu0 = _process_cpu()
        feeder0, thread0 = feeder.cpu, composer.cpu_seconds
        frames0, t0 = composer.frames_encoded, time.monotonic()
        time.sleep(args.seconds)
        elapsed = time.monotonic() - t0
        cpu = _process_cpu() - cpu0
        feeder_cpu = feeder.cpu - feeder0
        thread_cpu = composer.cpu_seconds - thread0
        frames = composer.frames_encoded - frames0
        status = outputs[1].status.value
    finally:
        stop.set()
        feeder.join(2)
        composer.close()
        composer.join(10)
        for output in outputs:
            output.join(10)
        if nginx is not None:
            nginx.stop()
    return Result(
        publishers=args.publishers,
        width=args.width,
        height=args.height,
        fps=args.fps,
        preset=args.preset,
        seconds=round(elapsed, 2),
        composer_cpu_share=round((cpu - feeder_cpu) / elapsed, 3),
        composer_thread_share=round(thread_cpu / elapsed, 3),
        feeder_cpu_share=round(feeder_cpu / elapsed, 3),
        frames_encoded_per_second=round(frames / elapsed, 1),
        cpu_ms_per_frame=round(1000 * (cpu - feeder_cpu) / max(frames, 1), 2),
        share_at_full_rate=round((cpu - feeder_cpu) / max(frames, 1) * args.fps, 3),
        frames_skipped=composer.frames_skipped,
        stream=stream,
        stream_status=status,
        recording_bytes=(work / "recording.mp4").stat().st_size,
    )


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--loop-seconds", type=float, default=4.0)
    args = parser.parse_args()
    print(json.dumps(asdict(run(args)), indent=2))


if __name__ == "__main__":
    main()
