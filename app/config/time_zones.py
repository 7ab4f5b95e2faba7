"""TIME_ZONE names both Django and Logstash's date filter accept.

Django looks a name up with zoneinfo; Logstash's date filter builds its zone
with Joda-Time's DateTimeZone.forID when the pipeline loads, and a name Joda
does not know stops the pipeline. zoneinfo also finds names that are not zones
for Joda: the posix/ and right/ copies of the database and a few files, and
zones newer than the Joda-Time data. Standard library only: scripts/create_env.py
uses it before the project's venv exists.
"""

from __future__ import annotations

import zoneinfo

# Folders of the tz database that hold copies under other rules, not zone names.
_NOT_ZONE_FOLDERS = ("posix/", "right/")
# Files that are not zones, and zones added to tzdata after the Joda-Time data
# checked (Debian's libjoda-time-java 2.10.14); tests/stack/test_logstash_engines.py
# checks every other accepted name on Joda.
_UNKNOWN_TO_JODA = {
    "Factory": None,
    "localtime": None,
    "posixrules": None,
    "America/Ciudad_Juarez": "America/Denver",
    "America/Coyhaique": "America/Punta_Arenas",
    "Europe/Kyiv": "Europe/Kiev",
}


def time_zone_problem(name: str) -> str | None:
    """Why ``TIME_ZONE=name`` cannot be used, as one sentence, or None when it can."""
    if name.startswith(_NOT_ZONE_FOLDERS):
        suggestion = name.split("/", 1)[1]
        return f"TIME_ZONE={name!r} is a copy under {name.split('/')[0]}/, which Logstash's date filter (Joda-Time) refuses: use {suggestion!r}."
    if name in _UNKNOWN_TO_JODA:
        alternative = _UNKNOWN_TO_JODA[name]
        hint = f": use {alternative!r}, the same clock today" if alternative else ""
        return f"TIME_ZONE={name!r} is not known to Logstash's date filter (Joda-Time){hint}."
    try:
        zoneinfo.ZoneInfo(name)
    except zoneinfo.ZoneInfoNotFoundError:
        if not zoneinfo.available_timezones():
            return None  # no time zone database here (e.g. Windows without tzdata): the app checks it
        return f"TIME_ZONE={name!r} is not a time zone name: use one such as 'UTC' or 'Europe/Paris'."
    except (ValueError, OSError):
        return f"TIME_ZONE={name!r} is not a time zone name: use one such as 'UTC' or 'Europe/Paris'."
    return None
