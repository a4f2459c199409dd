"""The `smeeton` command line: `smeeton serve` and the administration commands."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys

from smeeton import config as configuration


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        cfg = configuration.load(args.config, overrides=_overrides(args))
    except (configuration.ConfigError, OSError) as exc:
        print(f"smeeton: {exc}", file=sys.stderr)
        return 2
    # The administration commands print what matters; only serve logs progress.
    level = cfg.log_level.upper() if args.command == "serve" else "WARNING"
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic narrates every migration step; only its problems matter here.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.root.level))
    return args.run(cfg, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smeeton", description="Self-hosted video meetings in the browser."
    )
    parser.add_argument("--config", help="a TOML configuration file")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the server")
    _add_config_flags(serve_parser)
    serve_parser.set_defaults(run=serve)
    _add_user_commands(commands)
    _add_room_commands(commands)
    return parser


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """Every configuration field as a flag, for each command that reads it."""
    # SUPPRESS keeps a --config given before the command name.
    parser.add_argument(
        "--config", default=argparse.SUPPRESS, help="a TOML configuration file"
    )
    for name in configuration.field_names():
        flag = "--" + name.replace(".", "-").replace("_", "-")
        parser.add_argument(flag, dest="field:" + name, default=None)


def _add_user_commands(commands) -> None:
    users = commands.add_parser("users", help="host accounts").add_subparsers(
        dest="action", required=True
    )
    create = users.add_parser("create", help="create a host account")
    create.add_argument("name")
    create.add_argument(
        "--password", help="the password; asked for, or read from stdin, if absent"
    )
    create.set_defaults(run=users_create)
    listing = users.add_parser("list", help="list the host accounts")
    listing.set_defaults(run=users_list)
    for parser in (create, listing):
        _add_config_flags(parser)


def _add_room_commands(commands) -> None:
    rooms = commands.add_parser("rooms", help="persistent rooms").add_subparsers(
        dest="action", required=True
    )
    create = rooms.add_parser("create", help="create a room and print its links")
    create.add_argument("name")
    create.add_argument("--access-code", help="a code participants must give")
    create.add_argument(
        "--lobby", action="store_true", help="participants wait to be admitted"
    )
    create.add_argument(
        "--auto-record",
        action="store_true",
        help="record the meeting from its first participant on",
    )
    create.add_argument("--owner", help="the host account that owns the room")
    create.set_defaults(run=rooms_create)
    listing = rooms.add_parser("list", help="list every room")
    listing.set_defaults(run=rooms_list)
    remove = rooms.add_parser("delete", help="delete a room and its chat history")
    remove.add_argument("slug")
    remove.set_defaults(run=rooms_delete)
    for parser in (create, listing, remove):
        _add_config_flags(parser)


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    return {
        key.removeprefix("field:"): value
        for key, value in vars(args).items()
        if key.startswith("field:") and value is not None
    }


def serve(cfg: configuration.Config, args: argparse.Namespace) -> int:
    """Run the server in the foreground until interrupted."""
    import uvicorn

    from smeeton.http.app import create_app

    url = cfg.server.base_url + "/"
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(cfg),
            host=cfg.server.host,
            port=cfg.server.port,
            loop=_loop(),
            ws="websockets-sansio",
            lifespan="on",
            log_level=cfg.log_level.lower(),
            access_log=False,
            ssl_certfile=cfg.server.tls_certificate or None,
            ssl_keyfile=cfg.server.tls_key or None,
        )
    )
    print(f"Smeeton is starting. Open {url} in a browser.", flush=True)
    server.run()
    return 0


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


class UsageError(Exception):
    """Bad input on the command line: printed, and the exit code is 2."""


def _administer(cfg: configuration.Config, work) -> int:
    """Run `work(store)` against an open store, turning bad input into exit 2."""
    from smeeton.store import Store

    async def run() -> None:
        store = await Store.open(cfg)
        try:
            await work(store)
        finally:
            await store.close()

    try:
        asyncio.run(run())
    except (UsageError, ValueError) as exc:
        print(f"smeeton: {exc}", file=sys.stderr)
        return 2
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return args.password
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise UsageError("the two passwords differ")
        return first
    line = sys.stdin.readline()
    if not line:
        raise UsageError("no password given (use --password or pass it on stdin)")
    return line.rstrip("\r\n")


def users_create(cfg: configuration.Config, args: argparse.Namespace) -> int:
    """Create a host account, who can then sign in on the home page."""
    try:
        password = _read_password(args)
    except UsageError as exc:
        print(f"smeeton: {exc}", file=sys.stderr)
        return 2

    async def work(store) -> None:
        user = await store.create_user(args.name, password)
        print(f"Created host account {user.name!r}.")
        print(f"Sign in at {cfg.server.base_url}/")

    return _administer(cfg, work)


def users_list(cfg: configuration.Config, args: argparse.Namespace) -> int:
    """Print every host account, one per line."""

    async def work(store) -> None:
        for user in await store.users():
            print(f"{user.name}\tcreated {user.created_at:%Y-%m-%d %H:%M} UTC")

    return _administer(cfg, work)


def rooms_create(cfg: configuration.Config, args: argparse.Namespace) -> int:
    """Create a room and print its invite link and moderator link."""

    async def work(store) -> None:
        owner_id = None
        if args.owner is not None:
            owner = await store.user_by_name(args.owner)
            if owner is None:
                raise UsageError(f"no host account is named {args.owner!r}")
            owner_id = owner.id
        room = await store.create_room(
            args.name,
            owner_id,
            access_code=args.access_code,
            lobby=args.lobby,
            auto_record=args.auto_record,
        )
        links = _room_links(cfg, room)
        print(f"Created room {room.name!r}.")
        print(f"Invite link:    {links[0]}")
        print(f"Moderator link: {links[1]}")
        if room.access_code:
            print(f"Access code:    {room.access_code}")
        if room.lobby:
            print("Participants wait in the lobby until a moderator admits them.")
        if room.auto_record:
            print("Meetings are recorded from the first participant on.")

    return _administer(cfg, work)


def rooms_list(cfg: configuration.Config, args: argparse.Namespace) -> int:
    """Print every room with its invite link, one per line."""

    async def work(store) -> None:
        for room in await store.all_rooms():
            print(f"{room.slug}\t{room.name}\t{_room_links(cfg, room)[0]}")

    return _administer(cfg, work)


def rooms_delete(cfg: configuration.Config, args: argparse.Namespace) -> int:
    """Delete a room by its slug, with its chat history."""

    async def work(store) -> None:
        if not await store.delete_room(args.slug):
            raise UsageError(f"no room has the slug {args.slug!r}")
        print(f"Deleted room {args.slug}.")

    return _administer(cfg, work)


def _room_links(cfg: configuration.Config, room) -> tuple[str, str]:
    invite = f"{cfg.server.base_url}/r/{room.slug}"
    return invite, f"{invite}?moderator={room.moderator_key}"
