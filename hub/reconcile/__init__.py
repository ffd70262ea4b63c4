"""Data quality across the sources: where the ministry's and the city's data disagree (committee 4).

`reconcile()` runs the checks set-based, a slice of citizen IDs at a time, and keeps the
findings in the hub store with first-seen, last-seen and resolved times; `list_issues()` and
`count_issues()` read them back for the GraphQL layer; `run_cli()` is `hub reconcile`.
"""

from hub.reconcile.cli import run_cli
from hub.reconcile.kinds import SEVERITY, SUGGESTION, Finding, Kind, Severity
from hub.reconcile.run import STALE_AFTER, KindCounts, ReconcileSummary, reconcile
from hub.reconcile.store import DataIssue, ReconcileRun, count_issues, get_issues, last_run, list_issues

__all__ = [
    "SEVERITY",
    "STALE_AFTER",
    "SUGGESTION",
    "DataIssue",
    "Finding",
    "Kind",
    "KindCounts",
    "ReconcileRun",
    "ReconcileSummary",
    "Severity",
    "count_issues",
    "get_issues",
    "last_run",
    "list_issues",
    "reconcile",
    "run_cli",
]
