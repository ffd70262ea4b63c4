"""Alembic environment of the city database."""

from hub.migrations_env import run

run("city")
