"""Persistence: rooms, host accounts and chat history, through SQLAlchemy 2.

The other planes use only `Store` and the frozen records it returns; no ORM
object leaves this package.
"""

from smeeton.store.records import BbbHook, BbbMeeting, ChatRecord, RoomRecord, User
from smeeton.store.store import Store

__all__ = ["BbbHook", "BbbMeeting", "ChatRecord", "RoomRecord", "Store", "User"]
