"""The media plane: a selective forwarding unit on one shared UDP port.

It knows nothing of rooms, HTTP or signalling; the planes above drive it
through `MediaServer`, `Transport` and `Track`.
"""
