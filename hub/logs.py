"""Structured JSON logs: one object per line with the request id and client id, never a token or personal data."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
client_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_id", default=None)

# Last line of defence: anything shaped like a bearer token or a citizen ID is blanked out.
_SECRETS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[token]"),
    (re.compile(r"(?<!\d)\d{13}(?!\d)"), "[citizen-id]"),
    (re.compile(r"(?<!\d)\d-\d{4}-\d{5}-\d{2}-\d(?!\d)"), "[citizen-id]"),
    (re.compile(r"(?i)(authorization|client_secret|password)\S*[:=]\s*\S+"), r"\1=[redacted]"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        if (request_id := getattr(record, "request_id", None)) is not None:
            entry["request_id"] = request_id
        if (client_id := getattr(record, "client_id", None)) is not None:
            entry["client_id"] = client_id
        if record.exc_info:
            # The exception's type only: messages and tracebacks may hold SQL values or hosts.
            entry["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(entry, ensure_ascii=False)


_installed = False


def install_context() -> None:
    """Stamp every log record, when it is made, with the request and client ids of the current request."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        record.request_id = request_id_var.get()
        record.client_id = client_id_var.get()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "hub.logs.JsonFormatter"}},
    "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {
        "": {"handlers": ["default"], "level": "INFO"},
        "uvicorn": {"handlers": [], "propagate": True},
        "uvicorn.error": {"handlers": [], "propagate": True},
        "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
    },
}
