"""The models' checks on Logstash's engines, many a request: fast enough to check a whole log folder.

``Engine`` (stack_models/joni.py) checks each grok match, date and charset conversion with one round
trip to jruby, which a large folder cannot afford. ``BatchedChecks`` offers the same three checks
(``check_grok``, ``check_joda``, ``check_charset``) but queues them and sends them in batches
(``check_batch`` in joni_engine.rb); jruby compares each answer with the model's and returns only those
that differ. While jruby works on one batch the model fills the next, so the two run side by side.
A disagreement raises, as with ``Engine``, once its batch is answered; ``finish()`` waits for the
last batch. Other requests (``fnmatch``) finish the pending checks first: one request at a time.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable

from .joni import Engine

BATCH_CHARS = 2_000_000  # text per request: bounded memory here and in jruby
ANSWER_TIMEOUT_SECONDS = 300.0  # a batch is a few seconds' work for jruby; a JVM under load may be slow
_KINDS = ("groks", "dates", "charsets")


class BatchedChecks:
    def __init__(self, engine: Engine, batch_chars: int = BATCH_CHARS):
        self.engine = engine
        self.batch_chars = batch_chars
        self.checked: Counter[str] = Counter()  # checks answered by the engine, by kind
        self._in_flight: dict[str, list] | None = None  # the disagreement makers of the batch jruby has
        self._start_batch()

    @property
    def jruby_version(self) -> str:
        return self.engine.jruby_version

    def _start_batch(self) -> None:
        self._patterns: dict[str, int] = {}
        self._request: dict[str, list] = {kind: [] for kind in _KINDS}
        self._makers: dict[str, list[Callable[[object], Exception]]] = {kind: [] for kind in _KINDS}
        self._chars = 0

    def _add(self, kind: str, check: list, disagreement: Callable[[object], Exception], chars: int) -> None:
        self._request[kind].append(check)
        self._makers[kind].append(disagreement)
        self._chars += chars
        if self._chars >= self.batch_chars:
            self._ship()

    def check_grok(self, pattern: str, text: str, model, disagreement: Callable[[object], Exception]) -> None:
        index = self._patterns.setdefault(pattern, len(self._patterns))
        self._add("groks", [index, text, model], disagreement, len(text))

    def check_joda(self, pattern: str, zone: str, locale: str | None, text: str, model: int | None,
                   disagreement: Callable[[object], Exception]) -> None:
        self._add("dates", [pattern, zone, locale, text, model], disagreement, len(text))

    def check_charset(self, data: bytes, model: str, disagreement: Callable[[object], Exception]) -> None:
        self._add("charsets", [base64.b64encode(data).decode("ascii"), model], disagreement, 2 * len(data))

    def fnmatch(self, pattern: str, name: str) -> bool:
        self.finish()
        return self.engine.fnmatch(pattern, name)

    def _ship(self) -> None:
        """Collect the answer to the batch in flight, then send the pending one (never two in flight:
        jruby answers before it reads the next request, so both ends never wait on each other)."""
        self._collect()
        if not any(self._request.values()):
            return
        self.engine.send({"op": "check_batch", "patterns": list(self._patterns), **self._request})
        self._in_flight = self._makers
        self._start_batch()

    def _collect(self) -> None:
        if self._in_flight is None:
            return
        makers, self._in_flight = self._in_flight, None
        answer = self.engine.receive("check_batch", ANSWER_TIMEOUT_SECONDS)
        for kind in _KINDS:
            self.checked[kind] += len(makers[kind])
            for position, real in answer[kind]:
                raise makers[kind][position](real)

    def finish(self) -> None:
        """Send what is pending and wait until every check so far is answered (raising a disagreement)."""
        self._ship()
        self._collect()

    def close(self) -> None:
        self.engine.close()
