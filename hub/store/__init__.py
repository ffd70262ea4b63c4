"""The hub's own store: what the hub keeps about itself (seed runs now; clients, keys, audit later)."""
