"""The report for people: the dict of report.py as lines of text.

Every value that comes from the logs goes through ``shown``: escaped as a Python string literal's
inside (control characters, CR and LF, bidi and other format characters, separators) and cut, so a
hostile line can neither forge a line of this report nor send a terminal escape.
"""

from __future__ import annotations

TOP_FIELDS = 60  # coverage lines per dataset


def shown(value, omitted: int = 0, quoted: bool = True) -> str:
    text = repr(str(value))[1:-1]
    return (f"'{text}'" if quoted else text) + (f"...[{omitted} more chars]" if omitted else "")


def _count(number: int) -> str:
    return f"{number:,}"


def render(report: dict) -> list[str]:
    run, engine = report["run"], report["engine"]
    out = [
        f"check-logs: {shown(report['log_dir'])}",
        f"engine: {engine['summary']}",
        f"time zone: {report['time_zone']['name']} (from {report['time_zone']['from']})",
        f"read {len(report['files'])} file(s): {run['bytes'] / 1e6:,.1f} MB, {_count(run['lines'])} lines, "
        f"{_count(run['events'])} events in {run['seconds']:.1f} s ({run['mb_per_second'] or 0:.1f} MB/s)",
    ]
    for item in report["not_read"]:
        out.append(f"not read: {shown(item['name'])}: {item['reason']}")
    out += ["", "files:"]
    for file in report["files"]:
        out.append(f"  {shown(file['name'])} ({file['input']}): {_count(file['lines'])} lines, {_count(file['events'])} events, "
                   f"{_count(file['failed'])} failed to parse")
        notes = _file_notes(file)
        out += [f"    {note}" for note in notes]
    out += ["", *_failures(report["failures"])]
    out += ["", *_listed("records that lost an id", report["ids"], _ID_KINDS)]
    tutorial = sum(file["tutorial_format"] for file in report["files"])
    outside = sum(file["outside_request"] for file in report["files"])
    out.append(f"  tutorial format (no ids by design): {_count(tutorial)} events; ours written outside a request "
               f"(request_id=-, as expected): {_count(outside)}")
    out += ["", *_listed("security events missing their user or address", report["security"], _SECURITY_KINDS)]
    no_address = sum(file["tutorial_security_no_address"] for file in report["files"])
    out.append(f"  tutorial format (no address by design): {_count(no_address)} security events")
    out += ["", *_coverage(report["coverage"])]
    verdict = ("OK: every event parses" if report["exit_code"] == 0
               else f"FAIL: {_count(report['failures']['total'])} failure(s) above")
    return out + ["", f"{verdict} (exit {report['exit_code']})"]


def _file_notes(file: dict) -> list[str]:
    notes = []
    if file["error"]:
        notes.append(f"error: {file['error']}")
    if file["not_utf8_lines"]:
        notes.append(f"{_count(file['not_utf8_lines'])} line(s) not UTF-8")
    if file["stopped_at_too_long_line"]:
        notes.append(f"reading stopped at line {_count(file['stopped_at_too_long_line'])}, longer than 64 MiB")
    if file["incomplete_last_line_bytes"]:
        notes.append(f"ends with {_count(file['incomplete_last_line_bytes'])} bytes without a newline: Logstash "
                     "waits for the rest of that line (not checked)")
    forms = [f"{_count(file[key])} {label}" for key, label in (("ours", "in our format"), ("tutorial_format",
             "in the tutorial's format"), ("access", "access line(s)")) if file[key]]
    return notes + ([", ".join(forms)] if forms else [])


def _failures(failures: dict) -> list[str]:
    out = [f"failures (events that fail to parse, lines that are not UTF-8, files not read whole): {_count(failures['total'])}"]
    for kind in failures["by_kind"]:
        meanings = [failures["tag_meanings"][tag] for tag in kind["kind"].split(" + ") if tag in failures["tag_meanings"]]
        out.append(f"  {kind['kind']}: {_count(kind['count'])} ({'; '.join(meanings) or 'a tag the pipeline set'})")
        for example in kind["examples"]:
            where = f"line {_count(example['line'])}" + (f", byte {_count(example['byte_offset'])}" if "byte_offset" in example else "")
            out.append(f"    {shown(example['file'])} {where}: {shown(example['first_line'], example['first_line_omitted_chars'])}")
            reason = example.get("reason")
            if reason:
                out.append(f"      {_reason(reason)}")
    if failures["closest"]:
        out.append(f"  where the closest expression stopped (the first {_count(failures['diagnosed_per_file'])} "
                   "failures of each file):")
        for item in failures["closest"]:
            out.append(f"    {_count(item['count'])}: {item['plugin']} #{item['expression']} stopped at {_part(item['failed_part'])}")
    return out


def _part(part: str) -> str:
    """A part of a grok expression, between backticks: from the pipeline, not the logs, so as written (unless
    it holds a character that is not printable)."""
    if not part:
        return "its end"
    return f"`{part if part.isprintable() else shown(part, quoted=False)}`"


def _where(reason: dict) -> str:
    """A place in the event's text (its first line is the line the example names)."""
    column = f"column {reason['column']:,}"
    return column if reason["line"] == 1 else f"{column} of the event's line {reason['line']:,}"


def _reason(reason: dict) -> str:
    if reason["kind"] == "grok":
        there = (shown(reason["text_there"], reason["text_there_omitted_chars"]) if reason["text_there"]
                 else "the end of the event")
        return (f"closest: {reason['plugin']} #{reason['expression']} ({reason['source']}): its first "
                f"{reason['matched_parts']} of {reason['parts']} parts match, the next, {_part(reason['failed_part'])}, "
                f"fails: after their first match, at {_where(reason)}, comes {there}")
    if reason["kind"] == "date":
        return (f"date: {reason['plugin']} read {reason['field']} = {shown(reason['value'])}, which is not "
                f"{' or '.join(reason['formats'])} in {reason['time_zone']}")
    if reason["kind"] == "charset":
        return "the text above is the line as Logstash parses and indexes it: escaped whole"
    return reason["kind"]


_ID_KINDS = {"record_id_lost": "without a record id (a replay indexes them again)",
             "request_id_lost": "written during a request, without its request id"}
_SECURITY_KINDS = {"missing_user": "logins, logouts and failed logins without user.name",
                   "missing_address": "ours, written during a request, without source.ip"}


def _listed(title: str, kinds: list[dict], labels: dict[str, str]) -> list[str]:
    out = [f"{title}: {_count(sum(kind['count'] for kind in kinds))}"]
    for kind in kinds:
        out.append(f"  {labels.get(kind['kind'], kind['kind'])}: {_count(kind['count'])}")
        for example in kind["examples"]:
            out.append(f"    {shown(example['file'])} line {_count(example['line'])}: "
                       f"{shown(example['first_line'], example['first_line_omitted_chars'])}")
    return out


def _coverage(coverage: dict) -> list[str]:
    out = ["field coverage (share of each dataset's documents that have the field):"]
    for dataset, found in coverage.items():
        out.append(f"  {shown(dataset, quoted=False)}: {_count(found['documents'])} documents")
        fields = sorted(found["fields"].items(), key=lambda item: (-item[1], item[0]))
        for path, share in fields[:TOP_FIELDS]:
            out.append(f"    {share * 100:6.1f}%  {shown(path, quoted=False)}")
        if len(fields) > TOP_FIELDS:
            out.append(f"    ... {len(fields) - TOP_FIELDS} more fields (--json lists them all)")
    return out
