"""How long the file input remembers a file's read position (``sincedb_clean_after``), and where it reads a
file from when it meets it again.

Follows logstash-plugins/logstash-input-file 4.4.7:
- lib/logstash/inputs/file.rb: ``config :sincedb_clean_after, :validate => [FriendlyDurations, "days"],
  :default => "14 days"``; its ``validate_value`` calls ``FriendlyDurations.call(value, "days")``.
- lib/logstash/inputs/friendly_durations.rb: a number and an optional unit (NUMBERS_RE), in seconds; a value
  without a unit is in days here; anything else stops the pipeline from loading.
- lib/filewatch/sincedb_value.rb: every read touches ``last_changed_at``; the record expires at
  ``last_changed_at + duration`` (``last_changed_at_expires``).
- lib/filewatch/sincedb_record_serializer.rb (serialize) leaves an expired record out of each write, and
  sincedb_collection.rb deletes it from memory (sincedb_write) and skips it when Logstash starts (open,
  set_key_value: kept only while the start time is before its expiry).
- A file without a record is new: lib/filewatch/watched_file.rb (position_for_new_sincedb_value) starts it at
  0 when ``start_position`` is "beginning" or when it is found after the first discovery.
"""

import re

from .logstash_config_tree import Plugin

# friendly_durations.rb NUMBERS_RE, with Ruby's ASCII \d and \s; ^ and $ are line anchors in Ruby too.
DURATION = re.compile(
    r"^(?P<number>[0-9]+(\.[0-9]+)?)[ \t\n\v\f\r]?(?P<units>s((ec)?(ond)?)(s)?|m((in)?(ute)?)(s)?|h(our)?(s)?"
    r"|d(ay)?(s)?|w(eek)?(s)?|us(ec)?(s)?|ms(ec)?(s)?)?$",
    re.MULTILINE,
)
_DAY = 24 * 3600
# FriendlyDurations.call's case on the unit; any other unit the expression lets through counts as seconds.
_UNIT_SECONDS = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "week", "weeks"), 7 * _DAY),
    **dict.fromkeys(("ms", "msec", "msecs"), 1e-3),
    **dict.fromkeys(("us", "usec", "usecs"), 1e-6),
}
DEFAULT_CLEAN_AFTER = "14 days"


def duration_seconds(value, default_unit: str) -> float:
    """FriendlyDurations.call(value, default_unit): the duration in seconds, or ValueError with its message."""
    text = str(value).strip()
    match = DURATION.search(text)
    if match is None:
        raise ValueError(f"Value '{text}' is not a valid duration string e.g. 200 usec, 250ms, 60 sec, 18h, 21.5d, "
                         "1 day, 2w, 6 weeks")
    return float(match["number"]) * _UNIT_SECONDS.get(match["units"] or default_unit, 1)


def clean_after_seconds(plugin: Plugin) -> float:
    """How long a file input keeps a record of a file it has not read from."""
    return duration_seconds(plugin.get("sincedb_clean_after", DEFAULT_CLEAN_AFTER), "days")


def read_from(plugin: Plugin, recorded_position: int, idle_seconds: float, size: int, first_discovery: bool) -> int:
    """The byte the file input ``plugin`` reads a file from, when its record says ``recorded_position`` and
    nothing was read from the file for ``idle_seconds`` (across a restart: open drops a record whose expiry
    is not after the start time, the stricter of the two checks)."""
    if idle_seconds < clean_after_seconds(plugin):
        return recorded_position
    if plugin.get("start_position", "end") == "beginning" or not first_discovery:
        return 0
    return size
