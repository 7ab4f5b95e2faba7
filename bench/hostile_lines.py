"""Hostile line shapes at any size, behind every prefix a pipeline expression can get past.

The backtracking guard (tests/stack/test_pipeline_bounds.py) and the parse-cost benchmark
(bench/parse_cost.py) run the pipeline's expressions on them.
"""

OURS = "ERROR 2026-12-01 12:00:00,000 views [request_id=- record_id=00000000000000aa] "
TUTORIAL = "ERROR 2026-12-01 12:00:00,000 views "
ACCESS = '127.0.0.1 - - [01/Dec/2026:12:00:00 +0000] "GET /'
MIX = '[ ]"=  "[=] ]]"" ==[[ "'  # brackets, quotes, equal signs and spaces, unbalanced


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# Each text at a size: a 10,000-character line in each format, pathological mixes behind every
# prefix an expression can get past, and tutorial messages of many lines with and without headers.
TEXTS = {
    "ours, long message": lambda n: OURS + _repeat("a", n),
    "ours, long context": lambda n: OURS[:-20] + _repeat(' user="x] y" a=b', n) + "] m",
    "ours, unclosed context": lambda n: OURS[:-20] + _repeat(MIX, n),
    "ours, long stack": lambda n: OURS + "m" + _repeat("\n\t  File x, line 1", n),
    "ours, stack then a foreign line": lambda n: OURS + "m" + _repeat("\n\tline", n) + "\nforeign",
    "tutorial, long line": lambda n: TUTORIAL + _repeat("a", n),
    "tutorial, many lines": lambda n: TUTORIAL + _repeat("line\n", n),
    "tutorial, many lines then a traceback": lambda n: TUTORIAL + _repeat("line\n", n) + "Traceback (most recent call last):\n  x",
    "tutorial, many headers": lambda n: TUTORIAL + _repeat("\nTraceback (most recent call last):", n),
    "tutorial, near-headers": lambda n: TUTORIAL + _repeat("\nTraceback (most recent call last)", n),
    "security message": lambda n: "User logged in: " + _repeat(MIX, n),
    "access, long agent": lambda n: ACCESS + ' HTTP/1.1" 200 1 "-" "' + _repeat(MIX, n) + '" 1 - x',
    "access, unclosed quotes": lambda n: ACCESS + _repeat(MIX, n),
    "mix alone": lambda n: _repeat(MIX, n),
    "mix behind a level": lambda n: "ERROR " + _repeat(MIX, n),
    "mix behind a record start": lambda n: TUTORIAL[:-6] + _repeat(MIX, n),
    "many cut markers": lambda n: _repeat("x...[record cut short by a failed write]", n),
    "a long level name": lambda n: _repeat("A", n) + " 2026-12-01 12:00:00,00",
    "a long level name, cut": lambda n: _repeat("A", n) + " 2026-12-0...[record cut short by a failed write]x",
    "module of many words, near contexts": lambda n: TUTORIAL[:-1] + _repeat(" w [request_id", n),
    "module then many contexts": lambda n: TUTORIAL[:-1] + _repeat(" [request_id=", n),
    "carriage returns": lambda n: TUTORIAL + _repeat("a\r\n\r", n),
}
