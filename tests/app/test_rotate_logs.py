"""The stack's log rotation: rename only, bounded copies, and nothing lost while the app writes."""

import stat
import subprocess
import sys
import urllib.request

import pytest

from rotate_logs import main, parse_size, rotate
from tests.support.app_server import APP_DIR, running_app


def test_sizes_are_parsed_with_units():
    assert [parse_size(text) for text in ("10", "4k", "50M", "1G")] == [10, 4096, 50 * 1024**2, 1024**3]


@pytest.mark.parametrize("text", ["", "0", "-5M", "5T", "lots"])
def test_bad_sizes_are_refused_with_a_clear_message(text):
    with pytest.raises(Exception, match="is not a size: use a positive number with K, M or G"):
        parse_size(text)


def test_only_files_over_the_size_rotate_and_old_copies_shift_up_to_keep(tmp_path):
    (tmp_path / "big.log").write_text("new\n" * 10)
    (tmp_path / "big.log.1").write_text("one\n")
    (tmp_path / "big.log.2").write_text("two\n")
    (tmp_path / "small.log").write_text("x\n")
    (tmp_path / "notes.txt").write_text("y" * 100)

    rotated = rotate(tmp_path, max_bytes=20, keep=2)

    assert rotated == [tmp_path / "big.log"]
    assert not (tmp_path / "big.log").exists()
    assert (tmp_path / "big.log.1").read_text() == "new\n" * 10
    assert (tmp_path / "big.log.2").read_text() == "one\n"  # "two" was the oldest beyond keep=2
    assert not (tmp_path / "big.log.3").exists()
    assert (tmp_path / "small.log").read_text() == "x\n"
    assert (tmp_path / "notes.txt").exists()


def test_the_command_checks_once_touches_its_heartbeat_and_refuses_bad_arguments(tmp_path, capsys):
    (tmp_path / "app.log").write_text("z" * 2048)
    heartbeat = tmp_path / "heartbeat"

    assert main(["--dir", str(tmp_path), "--max-bytes", "1K", "--interval", "0", "--heartbeat", str(heartbeat)]) == 0
    assert heartbeat.exists() and (tmp_path / "app.log.1").exists()
    assert f"rotated {tmp_path / 'app.log'}" in capsys.readouterr().out
    for argv, message in (
        (["--dir", str(tmp_path / "missing")], "is not a directory"),
        (["--dir", str(tmp_path), "--keep", "0"], "--keep=0 is out of range"),
        (["--dir", str(tmp_path), "--max-bytes", "huge"], "is not a size"),
    ):
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err


def test_rotating_under_a_running_app_loses_no_line(tmp_path):
    requests = 300
    with running_app(tmp_path) as app:
        for index in range(requests):
            with urllib.request.urlopen(f"{app.base_url}/", timeout=10) as response:
                assert response.status == 200
            if index % 50 == 25:
                result = subprocess.run(
                    [sys.executable, "-m", "rotate_logs", "--dir", str(app.log_dir),
                     "--max-bytes", "1K", "--keep", "100", "--interval", "0"],
                    cwd=APP_DIR, capture_output=True, text=True, timeout=30,
                )
                assert result.returncode == 0, result.stderr

    app_lines = [
        line for path in app.log_dir.glob("django_debug.log*") for line in path.read_text().splitlines()
    ]
    access_lines = [line for path in app.log_dir.glob("access.log*") for line in path.read_text().splitlines()]
    assert len(list(app.log_dir.glob("django_debug.log.*"))) == 6
    assert len(app_lines) == 2 * requests
    assert len(access_lines) == requests
    # Created 0640 by the package's handler (the group reads: Logstash's), kept by every rename.
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in app.log_dir.glob("*.log*")} == dict.fromkeys(
        (path.name for path in app.log_dir.glob("*.log*")), 0o640)
