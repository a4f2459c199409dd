"""One typed configuration tree, read from a TOML file, the environment and flags.

Every field has one name in three spellings: `[media] port` in the TOML file,
`SMEETON_MEDIA_PORT` in the environment and `--media-port` on the command line.
Later sources win: defaults, then the file, then the environment, then flags.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the field."""


@dataclass(frozen=True)
class ServerConfig:
    """The HTTP and WebSocket listener."""

    host: str = "127.0.0.1"
    port: int = 8080
    # Where the browser reaches us, when a reverse proxy stands in front.
    public_url: str = ""
    tls_certificate: str = ""
    tls_key: str = ""

    @property
    def base_url(self) -> str:
        """Where links to this server start, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "https" if self.tls_certificate and self.tls_key else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"{scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class MediaConfig:
    """The media plane: one UDP port shared by every participant."""

    port: int = 40000
    bind: str = "0.0.0.0"
    # Addresses written into ICE candidates; empty means every local address.
    announce: tuple[str, ...] = ()
    # Estimate sent to publishers in REMB, in bits per second.
    max_video_bitrate: int = 2_500_000


@dataclass(frozen=True)
class MeetingsConfig:
    """How meetings are held."""

    # Whether joining an address that no room has opens a temporary room of
    # that name, whose first participant moderates it. Off: only rooms that
    # hosts created can be joined.
    temporary_rooms: bool = False


@dataclass(frozen=True)
class StoreConfig:
    """Where rooms, host accounts and chat history are kept."""

    # An SQLAlchemy URL; empty means the SQLite file `<data_dir>/smeeton.db`.
    url: str = ""


@dataclass(frozen=True)
class RecordingConfig:
    """The composer that records meetings and streams them live."""

    # The composed picture and its encoding (H.264 and AAC).
    width: int = 1280
    height: int = 720
    fps: int = 30
    video_bitrate: int = 2_500_000
    audio_bitrate: int = 128_000
    # libx264 preset: "ultrafast" costs least CPU, "veryfast" looks better.
    preset: str = "veryfast"
    # Recordings older than this many days are deleted; 0 keeps them all.
    retention_days: int = 0
    # Start recording every meeting when its first participant joins, as a
    # room's own auto_record does; rooms that may not be recorded excepted.
    auto_start: bool = False
    # At most this many live streams per meeting.
    max_streams: int = 3


@dataclass(frozen=True)
class Config:
    """The whole configuration tree, passed down explicitly."""

    data_dir: str = "data"
    log_level: str = "info"
    # The shared secret of the BigBlueButton-compatible API at
    # /bigbluebutton/api; empty turns that API off.
    bbb_secret: str = ""
    server: ServerConfig = field(default_factory=ServerConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    meetings: MeetingsConfig = field(default_factory=MeetingsConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)


def load(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Config:
    """Build the configuration from a file, the environment and flag overrides.

    `overrides` maps dotted field names (``media.port``) to values.
    """
    values: dict[str, object] = {}
    if path is not None:
        with open(path, "rb") as f:
            values.update(_flatten(tomllib.load(f)))
    environ = os.environ if environ is None else environ
    for name in field_names():
        key = "SMEETON_" + name.replace(".", "_").upper()
        if key in environ:
            values[name] = environ[key]
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _build(Config, values, prefix="")


def field_names(cls: type = Config, prefix: str = "") -> list[str]:
    """Dotted names of every leaf field, for flags and environment variables."""
    names = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            names.extend(field_names(hint, prefix + f.name + "."))
        else:
            names.append(prefix + f.name)
    return names


def field_type(name: str) -> type:
    """The Python type of a dotted field name."""
    cls: type = Config
    *sections, leaf = name.split(".")
    for section in sections:
        cls = typing.get_type_hints(cls)[section]
    return typing.get_type_hints(cls)[leaf]


def _flatten(tree: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, prefix + key + "."))
        else:
            flat[prefix + key] = value
    return flat


def _build(cls: type, values: dict[str, object], prefix: str):
    hints = typing.get_type_hints(cls)
    known = {prefix + f.name for f in dataclasses.fields(cls)}
    for name in values:
        own = name.startswith(prefix) and name.count(".") == prefix.count(".")
        if own and name not in known:
            raise ConfigError(f"unknown configuration field {name!r}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        name = prefix + f.name
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            kwargs[f.name] = _build(hint, values, name + ".")
        elif name in values:
            kwargs[f.name] = _coerce(name, hint, values[name])
    return cls(**kwargs)


def _coerce(name: str, hint: object, value: object) -> object:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{name} must be a list, got {value!r}")
        return tuple(str(v) for v in value)
    if origin is types.UnionType:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    if hint is int:
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    return str(value)
