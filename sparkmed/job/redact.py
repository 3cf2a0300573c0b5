"""Redaction of secrets in everything the job writes: metrics.json, MLflow params, report.html, log lines and
error messages.

Why: a job's config routinely carries credentials (``spark.hadoop.fs.s3a.secret.key``, a JDBC or reader
``password`` option, ``https://user:token@host`` URIs). Outputs are shared, uploaded to MLflow and pasted into
tickets; none of them may carry those values. One function, ``redact``, applies one rule everywhere:

- **Settings whose key looks secret**: the string value of any mapping entry whose key contains (case
  insensitive) ``secret password passwd token credential key sas auth private session`` is replaced by
  ``<redacted>``. Allow-list: the words ``keystore``, ``keystoretype`` and ``keytab`` (file paths and types,
  e.g. ``spark.ssl.keyStore``) and ``session.timezone`` do not count (``spark.ssl.keyStorePassword`` is still
  redacted: it says ``password``). Only string values are masked, so numbers such as the ``session`` phase's
  seconds stay readable; over-redaction of a harmless setting is accepted, a leak is not.
- **URIs anywhere in strings**: the user-info (``scheme://user:password@host`` → ``scheme://<redacted>@host``)
  and the values of secret-looking query parameters (``?sig=…``, ``&token=…``: SAS URLs, signed URLs).
- **Known secret values anywhere in strings**: ``secrets_of(cfg)`` collects the values of the secret settings
  and URI user-infos of a config; every occurrence of one of them in any text is replaced, which also covers
  messages that echo a value somewhere else (a Spark error quoting an option). Values shorter than 4
  characters, flags (true/false) and numbers are masked only as settings, not searched for in all text.

``RedactFilter`` applies the same to log records (message, arguments and traceback).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

MASK = "<redacted>"
SECRET_WORDS = ("secret", "password", "passwd", "token", "credential", "key", "sas", "auth", "private", "session")
ALLOWED_WORDS = ("keystoretype", "keystore", "keytab", "session.timezone")
QUERY_SECRET_WORDS = (*SECRET_WORDS, "sig", "signature")
MIN_SECRET_LEN = 4  # shorter "secrets" (true, 1) are not worth masking everywhere in the text

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<info>[^/?#@\s'\"]+)@")
_QUERY = re.compile(r"(?P<sep>[?&;])(?P<name>[A-Za-z0-9_.\-]+)=(?P<value>[^&;#\s'\"]*)")


def is_secret_key(key: str) -> bool:
    """Whether a setting's name looks like it holds a secret (the rule in the module docstring)."""
    name = str(key).lower()
    for word in ALLOWED_WORDS:
        name = name.replace(word, " ")
    return any(word in name for word in SECRET_WORDS)


def _query_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in QUERY_SECRET_WORDS)


def _redact_text(text: str, secrets: Iterable[str]) -> str:
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    if "=" in text:
        text = _QUERY.sub(lambda m: f"{m['sep']}{m['name']}={MASK}" if _query_secret(m["name"]) and m["value"]
                          else m[0], text)
    for value in sorted(set(secrets), key=len, reverse=True):  # longest first: a secret containing another
        if len(value) >= MIN_SECRET_LEN and value in text:
            text = text.replace(value, MASK)
    return text


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """``value`` with every secret masked: strings are cleaned of URI user-info, secret query parameters and
    the known ``secrets``; mappings additionally mask the string value of every secret-looking key; lists,
    tuples and mappings are copied recursively; other values are returned as they are."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return _redact_text(value, secrets)
    if isinstance(value, dict):
        return {k: (MASK if isinstance(v, str) and v and is_secret_key(k) else redact(v, secrets))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v, secrets) for v in value)
    return value


def _worth_masking(value: str) -> bool:
    """A value to mask wherever it appears: long enough, and not a flag or number (``spark.authenticate=true``
    must not turn every "true" of the output into ``<redacted>``; the setting itself is still masked)."""
    if len(value) < MIN_SECRET_LEN or value.lower() in ("true", "false", "none", "null"):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


def secret_values(settings: dict[str, Any]) -> frozenset[str]:
    """The values of the secret-looking keys of one settings table (worth masking everywhere)."""
    return frozenset(str(v) for k, v in settings.items() if is_secret_key(k) and _worth_masking(str(v)))


def secrets_of(cfg: dict[str, dict[str, Any]]) -> frozenset[str]:
    """The secret values in a job config: the values of secret-looking keys of ``spark.conf`` and
    ``input.options``, and the user-info (and its password part) of any URI in a string value."""
    found: set[str] = set()
    for table in (cfg.get("spark", {}).get("conf", {}), cfg.get("input", {}).get("options", {})):
        found.update(secret_values(table))

    def walk(v: Any) -> None:
        if isinstance(v, str):
            for m in _USERINFO.finditer(v):
                found.add(m["info"])
                found.update(part for part in m["info"].split(":", 1)[1:] if part)
            for m in _QUERY.finditer(v):
                if _query_secret(m["name"]) and m["value"]:
                    found.add(m["value"])
        elif isinstance(v, dict):
            for item in v.values():
                walk(item)
        elif isinstance(v, list | tuple):
            for item in v:
                walk(item)

    walk(cfg)
    return frozenset(s for s in found if _worth_masking(s))


class RedactFilter(logging.Filter):
    """A handler filter that redacts each record's message, arguments and traceback in place.

    ``secrets`` is filled once the config is loaded (``update``); before that only the rule-based parts
    (URI user-info, secret query parameters) apply. One instance is shared by the job's handlers.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def update(self, secrets: Iterable[str]) -> None:
        self.secrets.update(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler's error reporting
            return True
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


LOG_FILTER = RedactFilter()


def install_log_filter(secrets: Iterable[str] = ()) -> None:
    """Add ``LOG_FILTER`` (with ``secrets``) to every handler that can carry sparkmed's log lines: the root
    logger's and the ``sparkmed`` loggers' own handlers (the progress handler among them)."""
    LOG_FILTER.update(secrets)
    loggers = [logging.getLogger(), logging.getLogger("sparkmed"), logging.getLogger("sparkmed.progress")]
    for logger in loggers:
        for handler in logger.handlers:
            if LOG_FILTER not in handler.filters:
                handler.addFilter(LOG_FILTER)
