"""Structured (JSON-lines) logs; records carry ``refund_id``/``delivery_id`` when given as extra.
Credentials, e-mail addresses and card numbers are scrubbed from every message and traceback
before it is written (``hub.ledger.scrub``)."""

from __future__ import annotations

import json
import logging
import sys

from hub.ledger.scrub import scrub_text

CONTEXT_FIELDS = ("refund_id", "delivery_id", "connector", "store_id", "job_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub_text(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = scrub_text(self.formatException(record.exc_info))
        return json.dumps(entry)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in ("stripe", "httpx", "urllib3", "werkzeug"):  # one line per SDK request drowns the hub's own
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
