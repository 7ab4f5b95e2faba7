"""make check-logs: `python -m check_logs LOG_DIR [--time-zone ZONE] [--engine auto|joni|model] [--json]`.

Reads every file of LOG_DIR that a file input of logstash/pipeline/django.conf reads, as the pipeline
would, and reports events per file, events that fail to parse (with the closest expression), records
that lost their ids, security events missing their user or address, and field coverage.
Exit 0 when every event parses, 1 otherwise, 2 when the check cannot run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run from a checkout, `python -m check_logs` finds what the stack's tools import (as make sets PYTHONPATH):
# app/ (config.time_zones), setup/ and scripts/ (the .env reader of drill/settings.py).
_REPO_ROOT = Path(__file__).resolve().parents[1]
for _folder in ("scripts", "setup", "app"):
    if str(_REPO_ROOT / _folder) not in sys.path:
        sys.path.insert(1, str(_REPO_ROOT / _folder))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import traceback  # noqa: E402

from check_logs import report, report_text  # noqa: E402
from check_logs.check import check_folder  # noqa: E402
from check_logs.engines import ENGINES, choose  # noqa: E402
from check_logs.errors import CannotRun  # noqa: E402
from check_logs.settings import time_zone  # noqa: E402
from stack_models.grok import EngineDisagreement  # noqa: E402
from stack_models.joni import EngineError  # noqa: E402

ENV_FILE = _REPO_ROOT / ".env"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m check_logs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log_dir", type=Path, help="the folder your project writes its log files to")
    parser.add_argument("--time-zone", help="your Django TIME_ZONE (default: TIME_ZONE from the environment, "
                                            "else from .env, else UTC)")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto: Logstash's Joni and Joda under jruby when installed, else the model; "
                             "joni: require them; model: never start jruby")
    parser.add_argument("--max-examples", type=int, default=5, help="examples kept of each kind (default 5)")
    parser.add_argument("--env-file", type=Path, default=ENV_FILE, help="the .env to read TIME_ZONE from")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    arguments = parser.parse_args(argv)
    if not 0 <= arguments.max_examples <= 1000:
        parser.error(f"--max-examples={arguments.max_examples} must be from 0 to 1000")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    engine = None
    try:
        zone, zone_source = time_zone(arguments.time_zone, os.environ, arguments.env_file)
        engine = choose(arguments.engine)
        checked = check_folder(arguments.log_dir, zone, zone_source, engine, arguments.max_examples)
    except CannotRun as error:
        print(f"error: check-logs cannot run: {error}", file=sys.stderr)
        return 2
    except (EngineError, EngineDisagreement) as error:
        print(f"error: check-logs cannot run: Logstash's engines failed or disagree with the model ({error}); "
              "run with --engine model, and please report it", file=sys.stderr)
        return 2
    except Exception as error:  # a bug, or a pipeline the model does not know: not a verdict on the logs (exit 1)
        traceback.print_exc()
        print(f"error: check-logs cannot run: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    finally:
        if engine is not None:
            engine.close()
    found = report.as_dict(checked)
    if arguments.json:
        print(json.dumps(found, indent=2, ensure_ascii=True))
    else:
        print("\n".join(report_text.render(found)))
    return found["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
