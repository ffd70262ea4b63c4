"""The `hub` command line (see the contract: serve, migrate, seed, ...)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from hub.config import DATABASE_NAMES, Environment, Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from hub.bootstrap import prepare_embedded

    if settings.embedded:
        asyncio.run(prepare_embedded(settings))
    uvicorn.run(
        "hub.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level="info",
    )
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from hub.databases import Databases
    from hub.migrate import current_revision, downgrade, upgrade

    names = args.database or list(DATABASE_NAMES)
    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        databases = Databases.from_settings(settings)
        try:
            for name in names:
                if args.downgrade:
                    await downgrade(databases[name], name, args.downgrade)
                else:
                    await upgrade(databases[name], name, args.revision)
                print(f"{name}: at revision {await current_revision(databases[name], name) or 'base'}")
        finally:
            await databases.dispose()

    asyncio.run(run())
    return 0


def _seed(args: argparse.Namespace, settings: Settings) -> int:
    from hub.bootstrap import migrate_all, seed
    from hub.databases import Databases

    if settings.env is Environment.PRODUCTION:
        print("hub seed replaces all source data and is refused when HUB_ENV=production", file=sys.stderr)
        return 2
    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> dict[str, int]:
        databases = Databases.from_settings(settings)
        try:
            await migrate_all(databases)
            return await seed(databases, persons=args.persons, seed_value=args.seed, progress=not args.quiet)
        finally:
            await databases.dispose()

    rows = asyncio.run(run())
    for table, count in rows.items():
        print(f"{table:24} {count:>10,}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="The MSDHS-BMA social-welfare data hub.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the hub (embedded SQLite default when no URL is set)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="upgrade the ministry, city and store databases")
    migrate.add_argument("--database", action="append", choices=DATABASE_NAMES, help="only this database")
    migrate.add_argument("--revision", default="head", help="upgrade to this revision (default head)")
    migrate.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION instead (e.g. base)")
    migrate.set_defaults(handler=_migrate)

    seed = commands.add_parser("seed", help="fill both sources with deterministic synthetic data")
    seed.add_argument("--persons", type=int, default=2000)
    seed.add_argument("--seed", type=int, default=2568)
    seed.add_argument("--quiet", action="store_true", help="no progress bar")
    seed.set_defaults(handler=_seed)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args, Settings())


if __name__ == "__main__":
    sys.exit(main())
