"""Signalling: one WebSocket per participant session, typed JSON messages."""
