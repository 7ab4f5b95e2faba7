"""Size-based rename rotation of the shared log directory: the stack's logrotate.

``name.log`` becomes ``name.log.1`` (older copies shift up to ``--keep``; the
oldest is deleted). Files are only ever renamed, never copied or truncated:
the app's and gunicorn's handlers reopen the path on their next write. Logstash
finishes a renamed file only because its file inputs also watch the rotated
names (``name.log.*`` in logstash/pipeline/django.conf); a rename keeps the
inode, so while Logstash runs its read position follows. The first rename after
a Logstash restart makes it read the file again (docs/operations.md, "Rotation"),
and the pipeline's document ids keep the app's records from being indexed twice. A file
deleted before Logstash has read it is lost.

    python -m rotate_logs --dir /var/log/django --max-bytes 50M --keep 5 --interval 60
"""

import argparse
import re
import sys
import time
from pathlib import Path

_SIZE = re.compile(r"(\d+)([KMG]?)", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: use a positive number with K, M or G, e.g. 50M")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def rotate(directory: Path, max_bytes: int, keep: int) -> list[Path]:
    """Rotate every ``*.log`` in ``directory`` that has reached ``max_bytes``; return the rotated paths."""
    rotated = []
    for log in sorted(directory.glob("*.log")):
        if log.stat().st_size < max_bytes:
            continue
        log.with_name(f"{log.name}.{keep}").unlink(missing_ok=True)
        for generation in range(keep - 1, 0, -1):
            older = log.with_name(f"{log.name}.{generation}")
            if older.exists():
                older.rename(log.with_name(f"{log.name}.{generation + 1}"))
        log.rename(log.with_name(f"{log.name}.1"))
        rotated.append(log)
    return rotated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="the log directory")
    parser.add_argument("--max-bytes", type=parse_size, default="50M", help="rotate a file at this size (50M)")
    parser.add_argument("--keep", type=int, default=5, help="rotated copies to keep, 1-100 (5)")
    parser.add_argument("--interval", type=float, default=60, help="seconds between checks; 0 checks once (60)")
    parser.add_argument("--heartbeat", type=Path, help="file touched after every check, for a healthcheck")
    args = parser.parse_args(argv)
    if not 1 <= args.keep <= 100:
        parser.error(f"--keep={args.keep} is out of range: expected 1 to 100")
    if args.interval < 0:
        parser.error(f"--interval={args.interval} must not be negative")
    if not args.dir.is_dir():
        parser.error(f"--dir={str(args.dir)!r} is not a directory")
    while True:
        for log in rotate(args.dir, args.max_bytes, args.keep):
            print(f"rotated {log}", flush=True)
        if args.heartbeat is not None:
            args.heartbeat.touch()
        if args.interval == 0:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
