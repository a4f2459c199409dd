from __future__ import annotations

from smeeton.http.throttle import SignInThrottle


def test_five_failures_lock_the_name_out_and_success_clears_it():
    throttle = SignInThrottle(max_failures=5, window=600)
    for _ in range(4):
        throttle.failed("name:ana", "addr:1")
    assert throttle.retry_after("name:ana", "addr:2") == 0
    throttle.failed("name:ana", "addr:1")
    assert 590 < throttle.retry_after("name:ana", "addr:2") <= 600
    assert throttle.retry_after("name:budi", "addr:1") > 0
    assert throttle.retry_after("name:budi", "addr:3") == 0
    throttle.succeeded("name:ana", "addr:1")
    assert throttle.retry_after("name:ana", "addr:1") == 0


def test_failures_older_than_the_window_no_longer_count():
    throttle = SignInThrottle(max_failures=2, window=0.0)
    throttle.failed("name:ana")
    throttle.failed("name:ana")
    assert throttle.retry_after("name:ana") == 0
