"""The meeting domain: rooms, the participants in them, and who sees what."""
