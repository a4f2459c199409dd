"""Lightweight load peers: replaying publishers and counting subscribers.

They speak real ICE, DTLS and SRTP but have no encoder or decoder in the
loop. The media part (`connection`, `recording`, `peers`, `sdp`) knows
nothing of any server; `smeeton` holds our server's signalling, and another
server's signalling can sit beside it.
"""
