"""Smeeton: self-hosted video meetings in the browser, with its own SFU."""

__version__ = "0.1.0"
