"""`.env` and `.env.example` as scripts/create_env.py reads them (pytest's pythonpath has scripts/): one parser for every test.

ELASTIC_VERSION, the one version every image is pinned to, is read from .env.example here.
"""

from pathlib import Path

import create_env
from tests.support.paths import ENV_EXAMPLE


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as Compose reads them: comments, `export`, quotes, ` #` inline comments."""
    return create_env.parse_env(path.read_text(encoding="utf-8"), path)


def example_values(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    return parse_env_file(path)


def example_markers(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """Variable -> "secret" or "required", from the marker in the comment lines above it."""
    variables = create_env.parse_example(path.read_text(encoding="utf-8"), path)
    return {variable.name: variable.kind for variable in variables if variable.kind}


ELASTIC_VERSION = example_values()["ELASTIC_VERSION"]
