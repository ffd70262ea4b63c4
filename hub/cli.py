"""The `hub` command line (see the contract: serve, migrate, seed, ...)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile

from hub.config import DATABASE_NAMES, Environment, Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from hub.bootstrap import prepare_embedded

    from hub.logs import LOG_CONFIG
    from hub.serving import HTTP_PROTOCOL

    if settings.embedded:
        asyncio.run(prepare_embedded(settings))
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several worker processes: their metrics are aggregated through files in this folder.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hub-metrics-")
    uvicorn.run(
        "hub.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        http=HTTP_PROTOCOL,
        log_config=LOG_CONFIG,
        # On SIGTERM: stop accepting, let in-flight requests finish (audit and outbox are flushed by the lifespan).
        timeout_graceful_shutdown=30,
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


def _with_store(settings: Settings, work):
    """Run work(databases) against migrated databases (the embedded ones are created if missing)."""
    from hub.bootstrap import migrate_all
    from hub.databases import Databases

    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run():
        databases = Databases.from_settings(settings)
        try:
            if settings.embedded:
                await migrate_all(databases)
            return await work(databases)
        finally:
            await databases.dispose()

    return asyncio.run(run())


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from hub.auth.clients import ClientError, parse_districts
    from hub.auth.keys import MAX_TOKEN_TTL, current_signing_key
    from hub.auth.scopes import PERSONAS, ScopeError, check_grantable, parse_scopes
    from hub.auth.tokens import issue_access_token

    if settings.env is Environment.PRODUCTION:
        print("local tokens are not issued when HUB_ENV=production; use POST /oauth/token", file=sys.stderr)
        return 2
    if bool(args.persona) == bool(args.scope):
        print("give either --persona or --scope", file=sys.stderr)
        return 2
    try:
        if args.persona:
            persona = PERSONAS[args.persona]
            scopes, purpose, subject = persona["scope"], persona["purpose"], f"persona:{args.persona}"
        else:
            scopes, purpose, subject = parse_scopes(args.scope), None, "local:cli"
        check_grantable(scopes)
        districts = parse_districts(args.districts)
    except (ScopeError, ClientError) as exc:
        print(f"hub token: {exc}", file=sys.stderr)
        return 2
    if args.purpose:
        purpose = args.purpose
    if not 0 < args.ttl <= MAX_TOKEN_TTL:
        print(f"hub token: --ttl must lie between 1 and {MAX_TOKEN_TTL} seconds", file=sys.stderr)
        return 2

    async def work(databases):
        key = await current_signing_key(databases["store"])
        token, _ = issue_access_token(
            key,
            issuer=settings.issuer,
            audience=settings.audience,
            client_id="hub-cli",
            subject=subject,
            scopes=scopes,
            districts=districts,
            purpose=purpose,
            ttl=args.ttl,
        )
        return token

    print(_with_store(settings, work))
    return 0


def _clients(args: argparse.Namespace, settings: Settings) -> int:
    from hub.auth.clients import ClientError, create_client, list_clients, revoke_client
    from hub.auth.scopes import ScopeError

    if args.action == "create":
        try:
            client, secret = _with_store(
                settings,
                lambda dbs: create_client(dbs["store"], name=args.name, scope=args.scope, districts=args.districts),
            )
        except (ScopeError, ClientError) as exc:
            print(f"hub clients create: {exc}", file=sys.stderr)
            return 2
        print(f"client_id:     {client.client_id}")
        print(f"client_secret: {secret}")
        print("The secret is shown only now; the hub keeps only its hash.", file=sys.stderr)
        return 0
    if args.action == "list":
        for client in _with_store(settings, lambda dbs: list_clients(dbs["store"])):
            state = "active" if client.active else f"revoked {client.revoked_at:%Y-%m-%d %H:%M}"
            districts = ",".join(sorted(client.districts)) if client.districts else "all"
            print(f"{client.client_id}\t{client.name}\t{' '.join(sorted(client.scopes))}\tdistricts={districts}\t{state}")
        return 0
    revoked = _with_store(settings, lambda dbs: revoke_client(dbs["store"], args.client_id))
    if not revoked:
        print(f"hub clients revoke: no active client {args.client_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.client_id}")
    return 0


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from hub.auth.keys import rotate

    kid = _with_store(settings, lambda dbs: rotate(dbs["store"]))
    print(f"new signing key {kid}; earlier keys stay published until their tokens expire")
    return 0


def _audit(args: argparse.Namespace, settings: Settings) -> int:
    from hub.audit import verify

    checked, problem = _with_store(settings, lambda dbs: verify(dbs["store"]))
    if problem is not None:
        print(f"audit trail BROKEN at entry {problem.entry_id}: {problem.problem} ({checked} entries before it are intact)")
        return 1
    print(f"audit trail intact: {checked} entries")
    return 0


def _reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from hub.reconcile import run_cli

    return run_cli(args, settings)


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

    token = commands.add_parser("token", help="print a signed access token for local use (not in production)")
    token.add_argument("--persona", choices=["frontend", "auditor", "ministry-integrator", "city-integrator"])
    token.add_argument("--scope", help='space-separated scopes, e.g. "ministry:read pii:read"')
    token.add_argument("--districts", help="comma-separated DOPA district codes the token is limited to")
    token.add_argument("--purpose", help="the purpose recorded with every read of personal data")
    token.add_argument("--ttl", type=int, default=600, help="lifetime in seconds (at most 600)")
    token.set_defaults(handler=_token)

    clients = commands.add_parser("clients", help="manage OAuth clients")
    client_actions = clients.add_subparsers(dest="action", required=True)
    create = client_actions.add_parser("create", help="create a client; prints its id and secret once")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", required=True)
    create.add_argument("--districts", help="comma-separated DOPA district codes the client is limited to")
    client_actions.add_parser("list", help="list clients")
    revoke = client_actions.add_parser("revoke", help="revoke a client")
    revoke.add_argument("client_id")
    clients.set_defaults(handler=_clients)

    audit = commands.add_parser("audit", help="the audit trail")
    audit_actions = audit.add_subparsers(dest="action", required=True)
    audit_actions.add_parser("verify", help="check the hash chain; exits 1 naming the first bad entry")
    audit.set_defaults(handler=_audit)

    reconcile = commands.add_parser("reconcile", help="check the sources against each other; record data issues")
    reconcile.add_argument("--incremental", action="store_true", help="only what changed since the last run")
    reconcile.add_argument("--quiet", action="store_true", help="no progress bar")
    reconcile.set_defaults(handler=_reconcile)

    keys = commands.add_parser("keys", help="manage token signing keys")
    key_actions = keys.add_subparsers(dest="action", required=True)
    key_actions.add_parser("rotate", help="start signing with a new key")
    keys.set_defaults(handler=_keys)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args, Settings())


if __name__ == "__main__":
    sys.exit(main())
