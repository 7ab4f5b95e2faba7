"""The repository paths the models read, defined once (tests/support/paths.py adds the tests' own)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LOGSTASH_DIR = REPO_ROOT / "logstash"
PIPELINE_PATH = LOGSTASH_DIR / "pipeline" / "django.conf"
