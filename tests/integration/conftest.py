import pytest

from tests.server import RunningServer


@pytest.fixture
def server(tmp_path):
    running = RunningServer(tmp_path / "data").start()
    yield running
    running.stop()
    errors = [line for line in running.log().splitlines() if "Traceback" in line]
    assert not errors, running.log()
