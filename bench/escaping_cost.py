"""What escaping costs as a value grows: a failed login whose account name is 150 characters, 8 KB or 2.4 MB.

Per shape of text (printable ASCII, controls, non-ASCII with no-break spaces, combining marks), the CPU
time of SafeFormatter.format for the record signals.log_user_login_failed logs (the name in the message
and in the user field), against the standard library's logging.Formatter on the same record, which
copies the whole name into its message and writes it all. Our line is cut at MAX_MESSAGE_CHARS and
MAX_FIELD_CHARS: its cost should stop growing with the name, but for the copies Python makes in C
(the message's % formatting). Sizes and formatters take turns within each round; the best of ROUNDS
is kept. Prints the times and the ratio 2.4 MB / 8 KB of each; run with `make bench`.
"""

import logging
import time

from django_elk_logging.log_lines import SafeFormatter

from bench.results import append_section

SIZES = {"150 chars": 150, "8 KB": 8_192, "2.4 MB": 2_400_000}
SHAPES = {
    "ascii": "a",
    "controls": "\x01a\n",
    "non-ascii": "\u00e9\u00a0",
    "marks": "e\u0301\u0301 ",
}
ROUNDS = 5
# Enough calls per round that the smallest record takes some milliseconds.
CALLS = {150: 2_000, 8_192: 200, 2_400_000: 5}


def failed_login(account: str) -> logging.LogRecord:
    return logging.makeLogRecord({
        "name": "security", "levelname": "WARNING", "msg": "Login failed: %s", "args": (account,),
        "event": "user_login_failed", "user": account, "request_id": "-", "record_id": "0123456789abcdef",
    })


def best_cpu_seconds(runs: dict[tuple[str, int], callable]) -> dict[tuple[str, int], float]:
    """CPU seconds per call of each run, the best of ROUNDS rounds, the runs taking turns."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(ROUNDS):
        for (name, size), run in runs.items():
            start = time.process_time()
            for _ in range(CALLS[size]):
                run()
            best[name, size] = min(best[name, size], (time.process_time() - start) / CALLS[size])
    return best


def main() -> None:
    lines: list[str] = []

    def say(line: str) -> None:
        print(line)
        lines.append(line)

    formatters = {"ours": SafeFormatter("{levelname} {message}"), "stdlib": logging.Formatter("{levelname} {message}", style="{")}
    say(f"CPU time per record, best of {ROUNDS} alternating rounds; ratio: the 2.4 MB name against the 8 KB one")
    for shape, unit in SHAPES.items():
        records = {size: failed_login((unit * (size // len(unit) + 1))[:size]) for size in SIZES.values()}
        runs = {
            (name, size): (lambda formatter=formatter, record=record: formatter.format(record))
            for name, formatter in formatters.items() for size, record in records.items()
        }
        best = best_cpu_seconds(runs)
        for name in formatters:
            times = "   ".join(f"{label} {best[name, size] * 1e6:9.1f} us" for label, size in SIZES.items())
            say(f"{shape:10s} {name:6s} {times}   ratio {best[name, 2_400_000] / best[name, 8_192]:7.1f}")
    append_section("Escaping cost as a value grows (bench.escaping_cost)", ["```", *lines, "```"])


if __name__ == "__main__":
    main()
