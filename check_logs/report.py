"""The check's report as one JSON-ready dict (``--json`` prints it); report_text.py renders the same dict.

Stable keys: ``version`` changes if a key changes meaning or goes. Values from the logs are the text
Logstash would index, cut to a bound (``*_omitted_chars`` says how much was left out); JSON escapes
control and non-ASCII characters.
"""

from __future__ import annotations

from check_logs.check import DIAGNOSED_PER_FILE, Checked
from check_logs.engines import ON_ENGINE, ON_MODEL
from check_logs.findings import WHOLE_RECORD_TAGS

VERSION = 1
# What each tag the pipeline sets means, for the report's readers.
TAG_MEANINGS = {
    "_grokparsefailure": "no grok expression matched (the event is indexed whole in message)",
    "_django_record_parsefailure": "an app or security record that neither our format nor the tutorial's matches",
    "_access_parsefailure": "an access line that is not in our gunicorn format",
    "_dateparsefailure": "the timestamp did not parse in the time zone (the document gets the time it was read)",
    "_groktimeout": "a grok match ran past timeout_millis (the event is a parse failure, indexed whole in message)",
    "_django_record_tail": "text that does not begin at a record start: lines before a file's first record, or the "
                           "rest of a record the codec split at its limits",
    "_record_cut": "a record a failed write cut short (disk full?), closed by the app's cut marker",
    "multiline_codec_max_lines_reached": "a record over the codec's max_lines: split, the rest is another event "
                                         "(tagged _django_record_tail)",
    "multiline_codec_max_bytes_reached": "a record over the codec's max_bytes: split, the rest is another event "
                                         "(tagged _django_record_tail)",
    "not UTF-8": "a line that is not UTF-8: Logstash escapes the whole line (Ruby's String#inspect) before parsing",
}


def as_dict(checked: Checked) -> dict:
    tally = checked.tally
    lines = sum(file.lines for file in tally.files)
    size = sum(file.bytes for file in tally.files)
    failed = sum(file.failed + file.not_utf8_lines + bool(file.too_long_line) + bool(file.error) for file in tally.files)
    return {
        "version": VERSION,
        "log_dir": str(checked.folder),
        "engine": {
            "name": checked.engine.name, "summary": checked.engine.summary, "jruby": checked.engine.jruby_version,
            "model_only_because": checked.engine.reason,
            "on_engine": list(ON_ENGINE) if checked.engine.name == "joni" else [],
            "on_model": list(ON_MODEL) if checked.engine.name == "joni" else ["everything"],
            "checks": dict(checked.engine.checks.checked) if checked.engine.checks is not None else {},
        },
        "time_zone": {"name": checked.time_zone, "from": checked.time_zone_source},
        "run": {"seconds": round(checked.seconds, 3), "bytes": size, "lines": lines,
                "events": sum(file.events for file in tally.files), "peak_rss_bytes": checked.peak_rss_bytes,
                "mb_per_second": round(size / 1e6 / checked.seconds, 3) if checked.seconds else None},
        "files": [_file(file) for file in tally.files],
        "not_read": checked.survey.not_read,
        "failures": {
            "total": failed,
            "counted_tags_except": sorted(WHOLE_RECORD_TAGS),
            "diagnosed_per_file": DIAGNOSED_PER_FILE,
            "by_kind": tally.failures.as_list(),
            "closest": [{"plugin": plugin, "expression": index, "failed_part": part, "count": count}
                        for (plugin, index, part), count in tally.closest.most_common()],
            "tag_meanings": TAG_MEANINGS,
        },
        "ids": tally.ids.as_list(),
        "security": tally.security.as_list(),
        "coverage": {
            dataset: {"documents": documents,
                      "fields": {path: round(count / documents, 4) for path, count in sorted(paths.items())}}
            for dataset, (documents, paths) in sorted(tally.coverage().items())
        },
        "exit_code": checked.exit_code,
    }


def _file(file) -> dict:
    return {
        "name": file.name, "input": file.input_id, "bytes": file.bytes, "lines": file.lines, "events": file.events,
        "failed": file.failed, "not_utf8_lines": file.not_utf8_lines,
        "incomplete_last_line_bytes": file.pending_bytes, "stopped_at_too_long_line": file.too_long_line,
        "error": file.error,
        "ours": file.forms["ours"], "tutorial_format": file.forms["tutorial"], "access": file.forms["access"],
        "record_id_lost": file.ids["record_id_lost"], "request_id_lost": file.ids["request_id_lost"],
        "outside_request": file.ids["request_id_outside"],
        "security_missing_user": file.security["missing_user"],
        "security_missing_address": file.security["missing_address"],
        "tutorial_security_no_address": file.security["tutorial_no_address"],
    }
