"""Alembic environment of the store database."""

from hub.migrations_env import run

run("store")
