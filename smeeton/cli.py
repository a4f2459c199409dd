"""The `smeeton` command line: `smeeton serve` and the administration commands."""

from __future__ import annotations

import argparse
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
    logging.basicConfig(
        level=cfg.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return args.run(cfg, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smeeton", description="Self-hosted video meetings in the browser."
    )
    parser.add_argument("--config", help="a TOML configuration file")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the server")
    for name in configuration.field_names():
        flag = "--" + name.replace(".", "-").replace("_", "-")
        serve_parser.add_argument(flag, dest="field:" + name, default=None)
    serve_parser.set_defaults(run=serve)
    return parser


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

    tls = bool(cfg.server.tls_certificate and cfg.server.tls_key)
    scheme = "https" if tls else "http"
    host = "127.0.0.1" if cfg.server.host in ("0.0.0.0", "") else cfg.server.host
    url = cfg.server.public_url or f"{scheme}://{host}:{cfg.server.port}/"
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
