"""Write a bounded burst of app records through the app's own LOGGING, for `make bench-live`.

Each record's message holds one token, so Elasticsearch can count or find them: `<token>` for the
burst, `<token>x<i>` for mark i. Marks are spaced in time, and their write times (Unix seconds, this
host's clock) are printed as one JSON object, so the bench can time each from write to searchable.
"""

import json
import logging
import re
import time

from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger("myapp")
MAX_RECORDS = 1_000_000
MAX_MARKS = 10_000
TOKEN = re.compile(r"[a-z0-9]{1,40}")


class Command(BaseCommand):
    help = "Write a bounded burst of INFO records (and timed marks) through the app's LOGGING."

    def add_arguments(self, parser):
        parser.add_argument("token", help="lower-case letters and digits; the records' searchable token")
        parser.add_argument("--records", type=int, default=0, help=f"burst records (0-{MAX_RECORDS})")
        parser.add_argument("--marks", type=int, default=0, help=f"timed marks after the burst (0-{MAX_MARKS})")
        parser.add_argument("--mark-interval", type=float, default=0.05, help="seconds between marks (0.001-10)")

    def handle(self, *args, token, records, marks, mark_interval, **options):
        if not TOKEN.fullmatch(token):
            raise CommandError(f"token {token!r} must be 1 to 40 lower-case letters and digits.")
        if not 0 <= records <= MAX_RECORDS:
            raise CommandError(f"--records={records} is out of range: expected 0 to {MAX_RECORDS}.")
        if not 0 <= marks <= MAX_MARKS:
            raise CommandError(f"--marks={marks} is out of range: expected 0 to {MAX_MARKS}.")
        if not 0.001 <= mark_interval <= 10:
            raise CommandError(f"--mark-interval={mark_interval:g} is out of range: expected 0.001 to 10 seconds.")
        started = time.time()
        for index in range(records):
            logger.info("bench burst %s record %d", token, index)
        burst_seconds = time.time() - started
        written = {}
        for index in range(marks):
            written[f"{token}x{index}"] = time.time()
            logger.info("bench mark %sx%d", token, index)
            time.sleep(mark_interval)
        self.stdout.write(json.dumps({"records": records, "burst_seconds": burst_seconds, "marks": written}))
