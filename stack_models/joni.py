"""Logstash's regex engine (Joni, under Debian's jruby) and date library (Joda-Time), for the models' checks.

One long-lived ``jruby stack_models/joni_engine.rb`` process per session
(the JVM takes seconds to start) answers JSON-lines requests. Every request has
a bounded wait; if jruby dies or hangs, the engine is closed and an
``EngineError`` says why, with the end of jruby's stderr.

These are Debian's builds (JRuby 9.3 with its Joni, joda-time 2.10), not the
ones Logstash 9.5 bundles (JRuby 10, whose Joda the date filter uses): the same
engines, a few versions apart. Zone data in particular is older here.
"""

import atexit
import base64
import json
import os
import selectors
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

ENGINE_SCRIPT = Path(__file__).with_name("joni_engine.rb")
JODA_TIME_JAR = Path(os.environ.get("JODA_TIME_JAR", "/usr/share/java/joda-time.jar"))
# Debian packages that provide the engines (.ci/run installs them).
DEBIAN_PACKAGES = ("jruby", "libjoda-time-java")
START_TIMEOUT = 90.0  # a cold JVM on a busy 2-core runner
REQUEST_TIMEOUT = 20.0


class EngineError(RuntimeError):
    pass


def missing_reason() -> str | None:
    """Why the engines cannot run here, in one line, or None."""
    if shutil.which("jruby") is None:
        return f"jruby is not installed (Debian packages: {' '.join(DEBIAN_PACKAGES)}): grok and dates are not checked on Joni/Joda"
    if not JODA_TIME_JAR.is_file():
        return f"{JODA_TIME_JAR} is missing (Debian package libjoda-time-java): dates are not checked on Joda"
    return None


class Engine:
    def __init__(self, jvm_options: tuple[str, ...] = ()):
        """``jvm_options``: for the JVM (``-Xmx512m``), passed as jruby's ``-J`` options."""
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            ["jruby", *(f"-J{option}" for option in jvm_options), str(ENGINE_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, "JODA_TIME_JAR": str(JODA_TIME_JAR)},
        )
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._process.stdout, selectors.EVENT_READ)
        self._pending = b""
        hello = self._read_answer(START_TIMEOUT)
        if not hello.get("ready"):
            self._fail(f"jruby did not start the engine: {hello}")
        self.jruby_version = hello["jruby"]

    # ---- protocol ------------------------------------------------------------
    def _read_answer(self, timeout: float) -> dict:
        while b"\n" not in self._pending:
            if not self._selector.select(timeout):
                self._fail(f"jruby gave no answer within {timeout:g} s")
            chunk = os.read(self._process.stdout.fileno(), 1 << 16)
            if not chunk:
                self._fail(f"jruby exited (status {self._process.wait()})")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return json.loads(line)

    def _fail(self, why: str):
        self.close()
        self._stderr.seek(0)
        tail = self._stderr.read()[-2000:].decode("utf-8", "replace").strip()
        raise EngineError(f"{why}; jruby stderr: {tail or '(empty)'}")

    def request(self, **fields) -> dict:
        return self._request(fields, REQUEST_TIMEOUT)

    def _request(self, fields: dict, wait: float) -> dict:
        self.send(fields)
        return self.receive(fields["op"], wait)

    def send(self, fields: dict) -> None:
        """Write one request; its answer is read by ``receive``, before any other request is sent."""
        if self._process.poll() is not None:
            raise EngineError(f"the jruby engine is not running (exit status {self._process.returncode})")
        try:
            self._process.stdin.write(json.dumps(fields).encode() + b"\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            self._fail("jruby closed its input")

    def receive(self, op: str, wait: float) -> dict:
        answer = self._read_answer(wait)
        if not answer["ok"]:
            raise EngineError(f"{op} failed in jruby: {answer['error']}")
        return answer

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    # ---- operations ----------------------------------------------------------
    def grok(self, pattern: str, text: str) -> list[tuple[str, str | None]] | None:
        """Joni's ``[(group name, value), ...]`` for an expanded grok expression, or None without a match."""
        captures = self.request(op="grok", pattern=pattern, text=text)["captures"]
        return None if captures is None else [(name, value) for name, value in captures]

    def grok_timed(self, pattern: str, text: str, timeout: float) -> tuple[list[tuple[str, str | None]] | None, float | None]:
        """Joni's captures and the seconds the match took, or ``(None, None)`` when it ran past ``timeout``."""
        answer = self.request(op="grok_timed", pattern=pattern, text=text, timeout=timeout)
        if answer.get("timed_out"):
            return None, None
        captures = answer["captures"]
        return (None if captures is None else [(name, value) for name, value in captures]), answer["seconds"]

    def grok_batch(self, pattern: str, texts: list[str], runs: int, timeout: float) -> list[tuple[bool, int]] | None:
        """For each text, whether Joni matches it and the fastest of ``runs`` matches in nanoseconds, timed
        in jruby; None when the whole batch runs past ``timeout`` seconds."""
        fields = {"op": "grok_batch", "pattern": pattern, "texts": texts, "runs": runs, "timeout": timeout}
        answer = self._request(fields, timeout + REQUEST_TIMEOUT)
        if answer.get("timed_out"):
            return None
        return list(zip(answer["matched"], answer["nanos"], strict=True))

    def joda_parse(self, pattern: str, zone: str, text: str, locale: str | None = None) -> int | None:
        """Epoch millis Joda parses ``text`` to, or None where the date filter would fail."""
        answer = self.request(op="joda_parse", pattern=pattern, zone=zone, locale=locale, text=text)
        return answer.get("millis")

    def joda_accepts_zone(self, zone: str) -> bool:
        return self.request(op="joda_zone", zone=zone)["accepted"]

    def charset_convert(self, data: bytes) -> str:
        """The text the codecs' LogStash::Util::Charset (UTF-8) makes of one line's bytes."""
        return self.request(op="charset_convert", data=base64.b64encode(data).decode("ascii"))["text"]

    # ---- the models' checks: the model's answer against the engine's, a disagreement raised ----
    # (stack_models/joni_batches.py offers the same, many checks a request.)
    def check_grok(self, pattern: str, text: str, model, disagreement: Callable[[object], Exception]) -> None:
        joni = self.grok(pattern, text)
        if joni != model:
            raise disagreement(joni)

    def check_match(self, pattern: str, text: str, model: bool, disagreement: Callable[[object], Exception]) -> None:
        joni = self.grok(pattern, text) is not None
        if joni != model:
            raise disagreement(joni)

    def check_joda(self, pattern: str, zone: str, locale: str | None, text: str, model: int | None,
                   disagreement: Callable[[object], Exception]) -> None:
        real = self.joda_parse(pattern, zone, text, locale)
        if real != model:
            raise disagreement(real)

    def check_charset(self, data: bytes, model: str, disagreement: Callable[[object], Exception]) -> None:
        real = self.charset_convert(data)
        if real != model:
            raise disagreement(real)

    def check_regex_match(self, pattern: str, text: str, model: bool, disagreement: Callable[[object], Exception]) -> None:
        real = self.request(op="regex_match", pattern=pattern, text=text)["matched"]
        if real != model:
            raise disagreement(real)

    def check_gsub(self, pattern: str, replacement: str, text: str, model: str,
                   disagreement: Callable[[object], Exception]) -> None:
        real = self.request(op="gsub", pattern=pattern, replacement=replacement, text=text)["text"]
        if real != model:
            raise disagreement(real)

    def fnmatch(self, pattern: str, name: str) -> bool:
        """Ruby's ``Pathname#fnmatch?`` without flags, as the file input's ``exclude`` uses it."""
        return self.request(op="fnmatch", pattern=pattern, name=name)["matches"]

    def split_words(self, text: str) -> list[str]:
        """Ruby's ``String#split(' ')``, as Logstash expands a ``hosts`` entry."""
        return self.request(op="split_words", text=text)["words"]


_shared: Engine | None = None


def shared_engine() -> Engine:
    """The session's engine, started on first use (callers check ``missing_reason()`` first)."""
    global _shared
    if _shared is None or _shared._process.poll() is not None:
        _shared = Engine()
        atexit.register(_shared.close)
    return _shared
