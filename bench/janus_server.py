"""Debian's Janus as a peer server under test, with a configuration of our own.

The stock service listens on every interface with demo rooms; this runs
`janus` in the foreground from a configuration folder written for the run:
the HTTP API and media on one address only, the VideoRoom plugin and the
HTTP transport and nothing else, and ICE-lite like our own server, so both
answer connectivity checks and neither makes its own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests import processes

_LIBRARIES = Path("/usr/lib/x86_64-linux-gnu/janus")
_OTHER_PLUGINS = (
    "audiobridge duktape echotest lua nosip recordplay sip streaming textroom"
    " videocall voicemail"
)
_OTHER_TRANSPORTS = "mqtt nanomsg pfunix rabbitmq websockets"


def available() -> bool:
    """Whether Debian's janus is installed here."""
    return shutil.which("janus") is not None and _LIBRARIES.is_dir()


class JanusServer:
    """`janus` in the foreground on one address; its log in the config folder."""

    def __init__(
        self, config_dir: Path, host: str, port: int, prefix: tuple[str, ...] = ()
    ) -> None:
        self.config_dir = config_dir
        self.host = host
        self.port = port
        self.prefix = prefix
        self.log_path = config_dir / "janus.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> JanusServer:
        self._write_config()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    *self.prefix,
                    "janus",
                    "--configs-folder",
                    str(self.config_dir),
                    "--config",
                    str(self.config_dir / "janus.jcfg"),
                    "--interface",
                    self.host,
                    "--disable-colors",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        processes.wait_until_up(
            self.process, self.url + "/janus/info", self.log, "janus", timeout
        )
        return self

    def stop(self) -> None:
        processes.stop(self.process)

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def cpu_times(self) -> tuple[float, float]:
        """(user, system) CPU seconds of janus and all its threads, from /proc."""
        assert self.process is not None
        return processes.cpu_times(self.process.pid)

    def _write_config(self) -> None:
        folder = self.config_dir
        folder.mkdir(parents=True, exist_ok=True)
        plugins = ",".join(f"libjanus_{p}.so" for p in _OTHER_PLUGINS.split())
        transports = ",".join(f"libjanus_{t}.so" for t in _OTHER_TRANSPORTS.split())
        (folder / "janus.jcfg").write_text(
            f"""general: {{
    configs_folder = "{folder}"
    plugins_folder = "{_LIBRARIES}/plugins"
    transports_folder = "{_LIBRARIES}/transports"
    events_folder = "{_LIBRARIES}/events"
    loggers_folder = "{_LIBRARIES}/loggers"
    debug_level = 3
    session_timeout = 60
}}
certificates: {{
}}
media: {{
    ipv6 = false
    rtp_port_range = "20000-40000"
}}
nat: {{
    ice_lite = true
    ice_enforce_list = "{self.host}"
    nice_debug = false
}}
plugins: {{
    disable = "{plugins}"
}}
transports: {{
    disable = "{transports}"
}}
loggers: {{
    disable = "libjanus_jsonlog.so"
}}
events: {{
    broadcast = false
}}
"""
        )
        (folder / "janus.transport.http.jcfg").write_text(
            f"""general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    port = {self.port}
    ip = "{self.host}"
    https = false
}}
admin: {{
    admin_http = false
    admin_https = false
}}
"""
        )
        # The plugin wants its file even with no rooms: the run makes its own.
        (folder / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
