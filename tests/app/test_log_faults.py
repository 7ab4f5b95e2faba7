"""The sample service under a real fault: its running gunicorn app's log directory replaced by a file.

The handler's own faults (a full disk, a file size limit, an unwritable directory) are tested
with the package, in django-elk-logging/tests/test_log_faults.py.
"""

import re
import urllib.request

from tests.support.app_server import running_app


def cannot_write(path, cause: str) -> re.Pattern:
    return re.compile(
        rf"logging \(pid \d+\): cannot write {re.escape(str(path))}: {cause}; "
        r"records are lost \(and counted\) until it works again"
    )


def writable_again(path, lost: int) -> re.Pattern:
    return re.compile(rf"logging \(pid \d+\): {re.escape(str(path))} is writable again; {lost} record\(s\) were lost")


def get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200


def test_the_app_reports_a_broken_log_directory_once_per_file_not_once_per_record(tmp_path):
    # One worker serves requests in turn: when /healthz (which logs nothing) answers,
    # the access line of the request before it has been written.
    with running_app(tmp_path, workers=1) as app:
        get(app.base_url + "/")
        get(app.base_url + "/healthz")
        moved = tmp_path / "log.moved"
        app.log_dir.rename(moved)
        app.log_dir.write_text("a file where the log directory was\n")
        for _ in range(30):
            get(app.base_url + "/")
        get(app.base_url + "/healthz")
        app.log_dir.unlink()
        moved.rename(app.log_dir)
        get(app.base_url + "/")
        get(app.base_url + "/healthz")
    output = app.output()

    debug_log, access_log = app.log_dir / "django_debug.log", app.log_dir / "access.log"
    reports = [line for line in output.splitlines() if line.startswith("logging (pid")]
    expected = [
        cannot_write(debug_log, re.escape("Not a directory (ENOTDIR)")),
        cannot_write(access_log, re.escape("Not a directory (ENOTDIR)")),
        writable_again(debug_log, 60),
        writable_again(access_log, 30),
    ]
    assert len(reports) == len(expected) and all(
        pattern.fullmatch(line) for pattern, line in zip(expected, reports, strict=True)
    ), reports
    assert "Traceback" not in output and "Logging error" not in output
    assert len(debug_log.read_text().splitlines()) == 4
    assert len(access_log.read_text().splitlines()) == 2
