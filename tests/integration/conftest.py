import pytest

from tests.bbb.client import SECRET
from tests.server import RunningServer


@pytest.fixture
def server(tmp_path):
    running = RunningServer(tmp_path / "data").start()
    yield running
    running.stop()
    errors = [line for line in running.log().splitlines() if "Traceback" in line]
    assert not errors, running.log()


@pytest.fixture
def bbb(tmp_path):
    """A server with the BigBlueButton API on, opening only created rooms."""
    running = RunningServer(
        tmp_path / "data", "--bbb-secret", SECRET, temporary_rooms=False
    ).start()
    yield running
    running.stop()
    errors = [line for line in running.log().splitlines() if "Traceback" in line]
    assert not errors, running.log()
