"""Joda-Time as Logstash uses it: sprintf's ``%{+pattern}`` formatting and the date filter's parsing.

Only the tokens the pipeline's date formats use are modelled; any other raises NotImplementedError.
The date filter (logstash_filters.py) checks every parse on Joda itself when given an engine.
"""

import datetime as dt
import functools
import re
import zoneinfo

# Joda-Time tokens the pipeline's date formats use: the strptime directive, and what Joda's parser
# takes there where strptime is more lenient (SSS: at most three fraction digits, checked on Joda).
_JODA_TOKENS = {
    "yyyy": ("%Y", r"\d{4}"), "MMM": ("%b", r"[A-Za-z]+"), "MM": ("%m", r"\d{1,2}"), "dd": ("%d", r"\d{1,2}"),
    "HH": ("%H", r"\d{1,2}"), "mm": ("%M", r"\d{1,2}"), "ss": ("%S", r"\d{1,2}"), "SSS": ("%f", r"\d{1,3}"),
    "Z": ("%z", r"[-+]\d{4}"),
}


def joda_format(timestamp: dt.datetime, pattern: str) -> str:
    utc = timestamp.astimezone(dt.timezone.utc)
    return pattern.replace("YYYY", f"{utc.year:04d}").replace("MM", f"{utc.month:02d}").replace("dd", f"{utc.day:02d}")


@functools.lru_cache(maxsize=64)
def _joda_to_strptime(pattern: str) -> tuple[str, re.Pattern]:
    """The strptime format for a Joda pattern, and the shape Joda's parser accepts."""
    out, shape, position = [], [], 0
    while position < len(pattern):
        for token in sorted(_JODA_TOKENS, key=len, reverse=True):
            if pattern.startswith(token, position):
                out.append(_JODA_TOKENS[token][0])
                shape.append(_JODA_TOKENS[token][1])
                position += len(token)
                break
        else:
            if pattern[position].isalpha() or pattern[position] in "'%":
                raise NotImplementedError(f"date format token at {pattern[position:]!r} is not modelled")
            out.append(pattern[position])
            shape.append(re.escape(pattern[position]))
            position += 1
    return "".join(out), re.compile("".join(shape), re.ASCII)


@functools.lru_cache(maxsize=8192)  # consecutive lines share their second (the access log's whole time)
def parse_millis(joda: str, text: str, zone_id: str) -> int | None:
    """Epoch millis as Joda's parseMillis gives them in ``zone_id``, or None where it throws."""
    strptime_format, shape = _joda_to_strptime(joda)
    if shape.fullmatch(text) is None:
        return None
    try:
        parsed = dt.datetime.strptime(text, strptime_format)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        zone = zoneinfo.ZoneInfo(zone_id)
        # fold=0 is the earlier offset of a repeated hour, as Joda takes it; a local time in a
        # DST gap does not survive the round trip, and Joda refuses it ("Illegal instant").
        parsed = parsed.replace(tzinfo=zone, fold=0)
        if parsed.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) != parsed.replace(tzinfo=None):
            return None
    # Joda keeps milliseconds: digits beyond them are cut, not rounded.
    return (parsed - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1)
