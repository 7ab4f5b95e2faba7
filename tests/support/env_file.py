"""`.env` and `.env.example` as scripts/create_env.py reads them: one parser for every test.

ELASTIC_VERSION, the one version every image is pinned to, is read from .env.example here.
"""

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from tests.support.paths import ENV_EXAMPLE, SCRIPTS_DIR


@cache
def create_env_module() -> ModuleType:
    """scripts/create_env.py (not a package: it runs before the venv exists), loaded once."""
    spec = importlib.util.spec_from_file_location("create_env", SCRIPTS_DIR / "create_env.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as Compose reads them: comments, `export`, quotes, ` #` inline comments."""
    return create_env_module().parse_env(path.read_text(encoding="utf-8"), path)


def example_values(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    return parse_env_file(path)


def example_markers(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """Variable -> "secret" or "required", from the marker in the comment lines above it."""
    variables = create_env_module().parse_example(path.read_text(encoding="utf-8"), path)
    return {variable.name: variable.kind for variable in variables if variable.kind}


ELASTIC_VERSION = example_values()["ELASTIC_VERSION"]
