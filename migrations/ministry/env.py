"""Alembic environment of the ministry database."""

from hub.migrations_env import run

run("ministry")
