"""Logstash's settings files: pipelines.yml as Logstash reads it (stack_models/logstash_settings.py)."""

import re

import pytest

from stack_models.logstash_settings import read_pipelines
from tests.support.paths import DOCS_DIR, REPO_ROOT

LINES_PER_REQUEST = 3  # the bench's view "/": one INFO, one ERROR, and the access line


def _latest(pattern: str, text: str) -> str:
    found = re.findall(pattern, text, re.MULTILINE)
    assert found, pattern
    return found[-1]


def test_every_pipeline_pins_its_workers():
    """The default is the host's core count (logstash-core environment.rb, CpuCoreStrategy.maximum),
    which a 16-core host would turn into 16 batches in a 256 MB heap."""
    for pipeline_id, settings in read_pipelines().items():
        workers = settings.get("pipeline.workers")
        assert isinstance(workers, int) and 1 <= workers <= 2, pipeline_id


def test_the_documented_worker_count_and_its_figures_are_the_measured_ones():
    page = (DOCS_DIR / "performance.md").read_text()
    section = page[page.index("## Logstash workers"):]
    results = (REPO_ROOT / "bench" / "RESULTS.md").read_text()
    requests_per_second = int(_latest(r"^\| ours \| (\d+) \|", results))
    nanoseconds_a_line = int(_latest(r"^- pipeline expressions: [\d,]+ lines/s on one core \(([\d,]+) ns a line\)",
                                     results).replace(",", ""))

    assert f"`pipeline.workers: {read_pipelines()['django']['pipeline.workers']}`" in section
    assert f"{requests_per_second:,} requests/s" in section and f"{nanoseconds_a_line:,} ns a line" in section
    peak_lines = requests_per_second * LINES_PER_REQUEST
    assert f"{round(peak_lines, -2):,} lines/s" in section
    regex_cores = peak_lines * nanoseconds_a_line / 1e9
    assert f"{regex_cores:.1%} of a core" in section
    assert f"about {round(1 / regex_cores, -1):.0f} times the peak" in section


@pytest.mark.parametrize(("text", "problem"), [
    ("- pipeline.id: a\n  pipeline.workers: 1\n  pipeline.workers: 2\n", "set twice"),
    ("- pipeline.id: a\n- pipeline.id: a\n", "pipeline.id of its own"),
    ("- path.config: x\n", "pipeline.id of its own"),
    ("- pipeline.id: a\n    pipeline.workers: 1\n", "not a `- key: value`"),
    ("  pipeline.id: a\n", "not a `- key: value`"),
    ("- pipeline.id: a\n  path.data: /tmp\n", "path.data is not a pipeline setting"),
])
def test_the_reader_refuses_what_it_does_not_model(tmp_path, text, problem):
    path = tmp_path / "pipelines.yml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(problem)):
        read_pipelines(path)
