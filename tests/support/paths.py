"""The repository root and the paths tests read, defined once."""

from stack_models.paths import LOGSTASH_DIR, PIPELINE_PATH, REPO_ROOT

# The models' own paths are re-exported, so the tests read every path from here.
__all__ = ["LOGSTASH_DIR", "PIPELINE_PATH", "REPO_ROOT"]

APP_DIR = REPO_ROOT / "app"
PACKAGE_DIR = REPO_ROOT / "django-elk-logging"
PACKAGE_SRC = PACKAGE_DIR / "src"
# A Django project with the logging tutorial's LOGGING and nothing of ours.
TUTORIAL_PROJECT_DIR = REPO_ROOT / "tests" / "tutorial_project"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
# The ECS categorization table the pipeline's translate filters read.
EVENT_CATEGORIES_PATH = LOGSTASH_DIR / "pipeline" / "event_categories.json"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SCRIPTS_DIR = REPO_ROOT / "scripts"
ELASTICSEARCH_DIR = REPO_ROOT / "elasticsearch"
INDEX_TEMPLATE_PATH = ELASTICSEARCH_DIR / "index_templates" / "django-logs.json"
ILM_POLICY_PATH = ELASTICSEARCH_DIR / "ilm_policies" / "django-logs.json"
ALERTS_INDEX_TEMPLATE_PATH = ELASTICSEARCH_DIR / "index_templates" / "django-alerts.json"
ALERTS_ILM_POLICY_PATH = ELASTICSEARCH_DIR / "ilm_policies" / "django-alerts.json"
KIBANA_DIR = REPO_ROOT / "kibana"
SAVED_OBJECTS_PATH = KIBANA_DIR / "saved_objects" / "django-logs.ndjson"
SETUP_DIR = REPO_ROOT / "setup"
# elasticsearch-certutil's --in files, one per TLS profile (<profile>.yml).
CERT_INSTANCES_DIR = SETUP_DIR / "certs" / "instances"
README_PATH = REPO_ROOT / "README.md"
# The pages the README links to; docs/incident-response.md, the runbook, is one of them.
DOCS_DIR = REPO_ROOT / "docs"
PACKAGE_README = PACKAGE_DIR / "README.md"
MAKEFILE = REPO_ROOT / "Makefile"


def venv_inputs() -> tuple[str, ...]:
    """The files make's venv stamp depends on (its rule in the Makefile): it is rebuilt when one changes."""
    for line in MAKEFILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("$(VENV)/.installed:"):
            return tuple(line.split(":", 1)[1].split())
    raise AssertionError("the Makefile has no $(VENV)/.installed rule")
