"""AppendOnlyFileHandler under real faults: a full disk, a file size limit, an unwritable directory.

The faults are the kernel's own: a tmpfs that fills up (ENOSPC), RLIMIT_FSIZE (a short
write(2), then EFBIG) and a directory an unprivileged user cannot create files in (EACCES).
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from django_elk_logging.log_files import CUT_MARKER
from log_writer import Writer, message
from test_request_events import ORIGIN

TIMESTAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}"
SIZE = 1000  # characters of filler per record: a record is about 1,100 bytes
NOBODY = 65534
PAGE = 4096
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (to mount a tmpfs or to drop to another user)")


def complete_record(sequence: int) -> re.Pattern:
    return re.compile(
        rf"WARNING {TIMESTAMP} log_writer \[request_id=- record_id=[0-9a-f]{{16}}{ORIGIN}\] {message(sequence, SIZE)}"
    )


def cannot_write(path: Path, cause: str) -> re.Pattern:
    return re.compile(
        rf"logging \(pid \d+\): cannot write {re.escape(str(path))}: {cause}; "
        r"records are lost \(and counted\) until it works again"
    )


SHORT_WRITE = r"only (\d+) of \d+ bytes written: the disk is full or a size limit was reached"


def writable_again(path: Path, lost: int) -> re.Pattern:
    return re.compile(rf"logging \(pid \d+\): {re.escape(str(path))} is writable again; {lost} record\(s\) were lost")


def assert_reports(stderr: list[str], expected: list[re.Pattern]) -> list[re.Match]:
    assert len(stderr) == len(expected), stderr
    matches = [pattern.fullmatch(line) for pattern, line in zip(expected, stderr, strict=True)]
    assert all(matches), stderr
    return matches


def assert_lines(log_path: Path, expected: list) -> None:
    """Line by line: the complete record of that number, or (number, bytes written) for a cut one."""
    content = log_path.read_bytes()
    assert content.endswith(b"\n")
    lines = content[:-1].split(b"\n")
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected, strict=True):
        if isinstance(want, int):
            assert complete_record(want).fullmatch(line.decode()), line
            continue
        sequence, written = want
        cut = line.removesuffix(CUT_MARKER.encode())
        assert cut != line, f"a cut record was not closed with the marker: {line!r}"
        assert len(cut) == written
        assert re.fullmatch(rf"WARNING {TIMESTAMP} log_writer \[.*\] record {sequence:03d} x+", cut.decode()), cut


def test_a_record_cut_by_the_file_size_limit_is_closed_and_never_glued_to_the_next(tmp_path):
    log_path = tmp_path / "django_debug.log"
    writer = Writer(log_path)
    writer.do("log", "a", 0, SIZE)
    writer.do("log", "a", 1, SIZE)
    writer.do("limit", log_path.stat().st_size + 600)
    writer.do("log", "a", 2, SIZE)  # write(2) is cut short after 600 bytes
    writer.do("log", "b", 3, SIZE)  # another worker: EFBIG, nothing written
    writer.do("limit", None)
    writer.do("log", "b", 4, SIZE)  # the other worker writes first: it must close a's cut line
    writer.do("log", "a", 5, SIZE)
    stderr = writer.finish()

    assert_lines(log_path, [0, 1, (2, 600), 4, 5])
    [short, *_] = assert_reports(stderr, [
        cannot_write(log_path, SHORT_WRITE),
        cannot_write(log_path, re.escape("File too large (EFBIG)")),
        writable_again(log_path, 1),
        writable_again(log_path, 1),
    ])
    assert short.group(1) == "600"


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs with one free page left."""
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        (mount_point / "filler").write_bytes(b"\0" * (64 * 1024 - PAGE))
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@needs_root
def test_a_full_disk_cuts_one_record_which_is_closed_when_space_returns(full_disk):
    log_path = full_disk / "django_debug.log"
    writer = Writer(log_path)
    for sequence in range(5):  # three fit in the free page, the fourth is cut, the fifth finds no space
        writer.do("log", "a", sequence, SIZE)
    (full_disk / "filler").unlink()
    writer.do("log", "a", 5, SIZE)
    writer.do("log", "b", 6, SIZE)
    stderr = writer.finish()

    [short, _] = assert_reports(stderr, [cannot_write(log_path, SHORT_WRITE), writable_again(log_path, 2)])
    written = int(short.group(1))
    assert written == PAGE - sum(len(line) + 1 for line in log_path.read_bytes().split(b"\n")[:3])
    assert_lines(log_path, [0, 1, 2, (3, written), 5, 6])


@pytest.fixture
def shared_dir():
    """A directory other users can reach (pytest's tmp_path is private to root)."""
    directory = Path(tempfile.mkdtemp(prefix="log-faults-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


@needs_root
def test_an_unwritable_log_directory_is_reported_once_then_its_recovery_with_the_count(shared_dir):
    log_dir = shared_dir / "log"
    log_dir.mkdir(mode=0o755)  # root's: the unprivileged writer cannot create a file in it
    log_path = log_dir / "security.log"
    log_path.touch()
    os.chown(log_path, NOBODY, NOBODY)
    writer = Writer(log_path)
    writer.do("setuid", NOBODY)
    writer.do("log", "a", 0, SIZE)
    log_path.rename(log_dir / "security.log.1")  # rotated: the handler must create a new file, and cannot
    for sequence in range(1, 6):
        writer.do("log", "a", sequence, SIZE)
    log_dir.chmod(0o777)
    writer.do("log", "a", 6, SIZE)
    stderr = writer.finish()

    assert_reports(stderr, [
        cannot_write(log_path, re.escape("Permission denied (EACCES)")),
        writable_again(log_path, 5),
    ])
    assert_lines(log_dir / "security.log.1", [0])
    assert_lines(log_path, [6])

