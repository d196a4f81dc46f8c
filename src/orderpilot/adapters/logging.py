"""structlog set-up. Phone numbers and addresses never reach a log line unmasked: structlog
events, the standard library's records (uvicorn's error log and its tracebacks included) all go
through the one masking policy in domain/masking.py."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from orderpilot.domain.masking import mask_address, mask_field, mask_phones_in

__all__ = ["configure_logging", "mask_address", "mask_phone", "mask_value"]


def mask_phone(text: str) -> str:
    """Every phone number in TEXT masked (mainland and international)."""
    return mask_phones_in(text)


def mask_value(key: str, value: Any) -> Any:
    return mask_field(key, value)


def _mask_processor(_logger: Any, _name: str,
                    event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: mask_value(k, v) for k, v in event_dict.items()}


_plain_record_factory = logging.getLogRecordFactory()


def _masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every standard-library record is masked when it is made, before any handler (uvicorn's
    own included) formats it: the message, each argument (kept as arguments: uvicorn's access
    formatter unpacks them), and the traceback's text."""
    record = _plain_record_factory(*args, **kwargs)
    if isinstance(record.msg, str):
        record.msg = mask_field("", record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(mask_field("", a) if isinstance(a, str) else a
                            for a in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {k: mask_field(str(k), v) for k, v in record.args.items()}
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = mask_field("", logging.Formatter().formatException(record.exc_info))
    return record


class _StderrLogger:
    """Writes each line to the stderr of the moment it is written, not of the moment the
    logger was made (loggers are cached on first use: a stream replaced since, such as a
    finished CLI runner's, may be closed)."""

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")  # one write: lines of two threads do not interleave
        stream.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _to_stderr(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if json_lines
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.processors.format_exc_info, _mask_processor, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)),
        # stderr: stdout is each command's answer (`--json` lines, tables), never the log
        logger_factory=_to_stderr,
        cache_logger_on_first_use=True,
    )
    logging.setLogRecordFactory(_masked_record)
