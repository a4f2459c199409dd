from __future__ import annotations

import pytest

from smeeton.rooms.errors import UserError
from smeeton.rooms.limits import BurstLimit


def test_burst_past_the_count_is_refused_with_slow_down_per_participant():
    limit = BurstLimit(3, 60.0, "Slow down.")
    for _ in range(3):
        limit.check("ana")
    with pytest.raises(UserError) as refused:
        limit.check("ana")
    assert refused.value.code == "slow_down"
    limit.check("budi")


def test_actions_older_than_the_window_no_longer_count():
    limit = BurstLimit(1, 0.0, "Slow down.")
    limit.check("ana")
    limit.check("ana")
