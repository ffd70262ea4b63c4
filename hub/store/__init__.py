"""The hub's own store: what the hub keeps about itself (seed runs now; clients, keys, audit later)."""

from hub.store import issue_tables as issue_tables  # noqa: E402,F401 - the data-issue tables share the store metadata
