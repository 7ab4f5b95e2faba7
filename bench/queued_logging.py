"""The handler design the request benchmark compares with ours: the same handler behind a queue, written by a
thread of the worker's own.

The record is filtered (so the request id is copied from the request's context) and queued in the request's
thread; a writer thread started at the worker's first record, so after gunicorn's fork, hands it to the real
handler. At exit the queue is drained; a killed worker loses what it still holds.
"""

import atexit
import logging
import queue
import threading

from django.utils.module_loading import import_string

_STOP = None


class QueuedHandler(logging.Handler):
    def __init__(self, handler_class: str, **handler_options):
        super().__init__()
        self.target = import_string(handler_class)(**handler_options)
        self.records: queue.SimpleQueue = queue.SimpleQueue()
        self.writer: threading.Thread | None = None

    def setFormatter(self, formatter):  # noqa: N802 (logging's name): the target formats, in the writer
        super().setFormatter(formatter)
        self.target.setFormatter(formatter)

    def emit(self, record):
        if self.writer is None:
            self.writer = threading.Thread(target=self._write, name="queued-log-writer", daemon=True)
            self.writer.start()
            atexit.register(self.close)
        self.records.put(record)

    def _write(self):
        while (record := self.records.get()) is not _STOP:
            self.target.handle(record)

    def close(self):
        if self.writer is not None and self.writer.is_alive():
            self.records.put(_STOP)
            self.writer.join(timeout=5)
        self.target.close()
        super().close()
