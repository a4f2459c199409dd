"""The recording plane: a composer that subscribes to a room's tracks like any
other subscriber, and the recordings and live streams it feeds."""
