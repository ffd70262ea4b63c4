"""`hub reconcile`: run the checks once and print the counts per kind."""

from __future__ import annotations

import argparse
import asyncio
import sys

from hub.config import Settings
from hub.federation import SourceUnavailable


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """Reconcile the configured sources (args.incremental, args.quiet); 0 when done, 1 when a source failed."""
    from hub.bootstrap import migrate_all
    from hub.databases import Databases
    from hub.reconcile.run import reconcile

    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run():
        databases = Databases.from_settings(settings)
        try:
            if settings.embedded:
                await migrate_all(databases)
            return await reconcile(
                databases["ministry"], databases["city"], databases["store"],
                progress=not args.quiet, incremental=args.incremental,
            )
        finally:
            await databases.dispose()

    try:
        summary = asyncio.run(run())
    except SourceUnavailable as exc:
        print(f"hub reconcile: {exc}; nothing was resolved", file=sys.stderr)
        return 1
    print(format_summary(summary))
    return 0


def format_summary(summary) -> str:
    header = f"{'kind':42} {'found':>9} {'new':>9} {'reopened':>9} {'resolved':>9} {'open':>9}"
    lines = [header, "-" * len(header)]
    for kind, c in summary.counts.items():
        lines.append(f"{kind:42} {c.found:>9,} {c.new:>9,} {c.reopened:>9,} {c.resolved:>9,} {c.open:>9,}")
    lines.append("-" * len(header))
    lines.append(
        f"{'total':42} {summary.total('found'):>9,} {summary.total('new'):>9,} {summary.total('reopened'):>9,} "
        f"{summary.total('resolved'):>9,} {summary.total('open'):>9,}"
    )
    lines.append(
        f"{summary.mode} run {summary.run_id} in {summary.elapsed_seconds:.1f} s: "
        f"{summary.persons_examined:,} persons and {summary.households_examined:,} households checked"
    )
    return "\n".join(lines)
