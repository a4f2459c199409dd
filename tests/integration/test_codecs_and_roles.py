"""H.264 is forwarded as well as VP8, and the server takes either DTLS role."""

from __future__ import annotations

import asyncio

from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from tests.peers import NO_ICE_SERVERS, Participant, PatternTrack, ToneTrack, wait_for


async def publish_with(
    participant: Participant,
    codec: str | None = None,
    offer_filter=lambda sdp: sdp,
) -> tuple[RTCPeerConnection, str]:
    """Publish a tone and a camera, maybe with one video codec; returns the answer."""
    pc = RTCPeerConnection(NO_ICE_SERVERS)
    participant.publish_pc = pc
    pc.addTransceiver(ToneTrack(), direction="sendonly")
    video = pc.addTransceiver(PatternTrack(320, 180, 15), direction="sendonly")
    if codec is not None:
        wanted = [
            c
            for c in RTCRtpSender.getCapabilities("video").codecs
            if c.mimeType.lower() in (f"video/{codec}", "video/rtx")
        ]
        video.setCodecPreferences(wanted)
    await pc.setLocalDescription(await pc.createOffer())
    answer = participant.next_message("publish_answer")
    labels = {pc.getTransceivers()[0].mid: "microphone", video.mid: "camera"}
    await participant.send(
        {
            "type": "publish",
            "sdp": offer_filter(pc.localDescription.sdp),
            "tracks": labels,
        }
    )
    sdp = (await answer)["sdp"]
    await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
    return pc, sdp


def video_rising(viewer: Participant, minimum: int = 5):
    def check() -> bool:
        return any(f >= minimum for f in viewer.frames("video"))

    return check


async def test_h264_camera_is_forwarded_and_decoded_by_a_subscriber(server):
    viewer = Participant(server.ws_url, "viewer")
    speaker = Participant(server.ws_url, "speaker")
    await viewer.join()
    await speaker.join()
    try:
        _, answer = await publish_with(speaker, codec="h264")
        assert "H264/90000" in answer and "VP8" not in answer

        await wait_for(video_rising(viewer), 30, "H.264 frames decoded")
        offer = next(m for m in reversed(viewer.messages) if m["type"] == "offer")
        assert "H264/90000" in offer["sdp"]
        assert "packetization-mode=1" in offer["sdp"]
        video = next(r for r in viewer.live() if r.info["kind"] == "video")
        assert video.width == 320
        before = video.frames
        await asyncio.sleep(1.0)
        assert video.frames > before + 3
    finally:
        await speaker.close()
        await viewer.close()


async def test_server_is_dtls_client_when_the_publisher_offers_passive(server):
    viewer = Participant(server.ws_url, "viewer")
    speaker = Participant(server.ws_url, "speaker")
    await viewer.join()
    await speaker.join()
    try:
        # A WHIP encoder such as ffmpeg offers a=setup:passive (RFC 8842
        # §5.1), which leaves the server to start the handshake.
        _, answer = await publish_with(
            speaker,
            offer_filter=lambda sdp: sdp.replace("a=setup:actpass", "a=setup:passive"),
        )
        assert "a=setup:active" in answer

        await wait_for(video_rising(viewer), 20, "frames over a server-started DTLS")
        audio = [r for r in viewer.live() if r.info["kind"] == "audio"]
        await wait_for(lambda: audio[0].frames > 10, 10, "audio frames")
    finally:
        await speaker.close()
        await viewer.close()
