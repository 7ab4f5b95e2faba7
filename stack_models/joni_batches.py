"""The models' checks on Logstash's engines, many a request: fast enough to check a whole log folder.

``Engine`` (stack_models/joni.py) checks each grok match, date and charset conversion with one round
trip to jruby, which a large folder cannot afford. ``BatchedChecks`` offers the same checks
(``check_grok``, ``check_match``, ``check_joda``, ``check_charset``, ``check_regex_match``, ``check_gsub``) but queues them and sends them in batches
(``check_batch`` in joni_engine.rb); jruby compares each answer with the model's and returns only those
that differ. While jruby works on one batch the model fills the next, so the two run side by side.
A disagreement raises, as with ``Engine``, once its batch is answered; ``finish()`` waits for the
last batch. Other requests (``fnmatch``) finish the pending checks first: one request at a time.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable

from .grok import EngineDisagreement
from .joni import Engine

BATCH_CHARS = 2_000_000  # text per request: bounded memory here and in jruby
ANSWER_TIMEOUT_SECONDS = 300.0  # a batch is a few seconds' work for jruby; a JVM under load may be slow
_KINDS = ("groks", "matches", "dates", "charsets", "regex_matches", "gsubs")


class BatchedChecks:
    def __init__(self, engine: Engine, batch_chars: int = BATCH_CHARS):
        self.engine = engine
        self.batch_chars = batch_chars
        self.checked: Counter[str] = Counter()  # checks answered by the engine, by kind
        self._in_flight: tuple[dict[str, list], list[str]] | None = None  # the batch jruby has: makers, patterns
        self._start_batch()

    @property
    def jruby_version(self) -> str:
        return self.engine.jruby_version

    def _start_batch(self) -> None:
        self._patterns: dict[str, int] = {}
        self._names: dict[int, list[str]] = {}  # pattern index -> the model's capture names
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
        if model is None:
            self._add("groks", [index, text, None], disagreement, len(text))
            return
        # The capture names are the same for every match of an expression: sent (and compared) once a batch.
        if index not in self._names:
            self._names[index] = [name for name, _ in model]
        self._add("groks", [index, text, [value for _, value in model]], disagreement, len(text))

    def check_match(self, pattern: str, text: str, model: bool, disagreement: Callable[[object], Exception]) -> None:
        index = self._patterns.setdefault(pattern, len(self._patterns))
        self._add("matches", [index, text, model], disagreement, len(text))

    def check_joda(self, pattern: str, zone: str, locale: str | None, text: str, model: int | None,
                   disagreement: Callable[[object], Exception]) -> None:
        self._add("dates", [pattern, zone, locale, text, model], disagreement, len(text))

    def check_charset(self, data: bytes, model: str, disagreement: Callable[[object], Exception]) -> None:
        self._add("charsets", [base64.b64encode(data).decode("ascii"), model], disagreement, 2 * len(data))

    def check_regex_match(self, pattern: str, text: str, model: bool, disagreement: Callable[[object], Exception]) -> None:
        self._add("regex_matches", [pattern, text, model], disagreement, len(text))

    def check_gsub(self, pattern: str, replacement: str, text: str, model: str,
                   disagreement: Callable[[object], Exception]) -> None:
        self._add("gsubs", [pattern, replacement, text, model], disagreement, len(text) + len(model))

    def fnmatch(self, pattern: str, name: str) -> bool:
        self.finish()
        return self.engine.fnmatch(pattern, name)

    def _ship(self) -> None:
        """Collect the answer to the batch in flight, then send the pending one (never two in flight:
        jruby answers before it reads the next request, so both ends never wait on each other)."""
        self._collect()
        if not any(self._request.values()):
            return
        names = [[index, names] for index, names in self._names.items()]
        self.engine.send({"op": "check_batch", "patterns": list(self._patterns), "names": names, **self._request})
        self._in_flight = (self._makers, list(self._patterns))
        self._start_batch()

    def _collect(self) -> None:
        if self._in_flight is None:
            return
        (makers, patterns), self._in_flight = self._in_flight, None
        answer = self.engine.receive("check_batch", ANSWER_TIMEOUT_SECONDS)
        for index, names in answer["names"]:
            raise EngineDisagreement(f"grok model and Joni name the captures of {patterns[index]!r} differently: Joni {names}")
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
