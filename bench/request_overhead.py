"""Request overhead of each logging configuration: real gunicorn (2 workers) serving the tutorial's view `/`.

The view logs one INFO and one ERROR record per request. Every configuration runs at once on its own port;
the measurements are interleaved round-robin (each round in another order) and each figure is the median of
the rounds. Throughput is relative to logging off. Load: wrk --latency when installed, else bench/load.py's
threaded generator. Run with `make bench`; `--profile` then records "ours" under load with py-spy.
"""

import argparse
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.load import LoadResult, run_load, wrk_installed
from bench.results import append_section
from bench.serve_configs import CONFIGURATIONS, PRODUCTION, Configuration, package_at, prepare_database, serve

GOAL = 0.85
WORKERS = 2
CONNECTIONS = 2 * WORKERS
WARM_UP_SECONDS = 2
PROFILE_DIR = Path(__file__).with_name("profiles")


def measure(urls: dict[str, str], rounds: int, seconds: float) -> dict[str, list[LoadResult]]:
    """``rounds`` load runs per configuration, round-robin, each round starting one configuration later."""
    names = list(urls)
    results: dict[str, list[LoadResult]] = {name: [] for name in names}
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[: round_index % len(names)]
        for name in order:
            result = run_load(urls[name], seconds, CONNECTIONS)
            results[name].append(result)
            print(f"  round {round_index + 1}: {name:26s} {result.requests_per_second:8.1f} req/s", flush=True)
    return results


def table(results: dict[str, list[LoadResult]], baseline: str) -> list[str]:
    """Markdown rows: median throughput, its ratio to ``baseline``, median p50 and p99, errors."""
    base_rate = statistics.median(result.requests_per_second for result in results[baseline])
    lines = [
        "| configuration | req/s | vs off | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        rate = statistics.median(run.requests_per_second for run in runs)
        p50 = statistics.median(run.p50_seconds for run in runs) * 1000
        p99 = statistics.median(run.p99_seconds for run in runs) * 1000
        errors = sum(run.errors for run in runs)
        lines.append(f"| {name} | {rate:.0f} | {rate / base_rate:.2f} | {p50:.2f} | {p99:.2f} | {errors} |")
    return lines


def ratio(results: dict[str, list[LoadResult]], name: str, baseline: str) -> float:
    def rate(key: str) -> float:
        return statistics.median(run.requests_per_second for run in results[key])

    return rate(name) / rate(baseline)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one measurement (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every configuration (default 3)")
    parser.add_argument("--profile", action="store_true", help=f"then profile 'ours' with py-spy into {PROFILE_DIR}")
    parser.add_argument("--before", metavar="REV", help="also serve 'ours' with the logging package as it was at "
                        "this git revision (console at INFO, its default then), interleaved with the rest")
    arguments = parser.parse_args(argv)
    if arguments.seconds <= 0 or arguments.rounds < 1:
        parser.error("--seconds must be positive and --rounds at least 1")
    generator = "wrk --latency" if wrk_installed() else "bench/load.py's Python generator (wrk is not installed)"
    configurations = list(CONFIGURATIONS)
    print(f"{len(configurations) + bool(arguments.before)} configurations x {arguments.rounds} rounds x {arguments.seconds:g} s, "
          f"{WORKERS} sync workers, {CONNECTIONS} connections, {generator}")
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as directory, ExitStack() as servers:
        workdir = Path(directory)
        database = prepare_database(workdir / "shared")
        if arguments.before:
            old = package_at(arguments.before, workdir)
            configurations.append(Configuration(f"ours at {arguments.before} (console INFO)", PRODUCTION.settings_module,
                                                PRODUCTION.gunicorn_config, old, (("CONSOLE_LOG_LEVEL", "info"),)))
        apps = {
            configuration.name: servers.enter_context(
                serve(configuration, workdir / f"config-{index}", database, workers=WORKERS)
            )
            for index, configuration in enumerate(configurations)
        }
        urls = {name: app.base_url + "/" for name, app in apps.items()}
        # Each worker's first requests are slow (bench/first_request.py): not measured.
        for url in urls.values():
            run_load(url, WARM_UP_SECONDS, CONNECTIONS)
        results = measure(urls, arguments.rounds, arguments.seconds)
        if arguments.profile:
            from bench.profile_requests import profile

            print(profile(apps[PRODUCTION.name], urls[PRODUCTION.name], PROFILE_DIR))
    baseline = CONFIGURATIONS[0].name
    lines = table(results, baseline)
    production_ratio = ratio(results, PRODUCTION.name, baseline)
    verdict = "met" if production_ratio >= GOAL else "NOT met"
    lines += [
        "",
        f"Goal: our production logging keeps at least {GOAL:.2f} of the logging-off throughput: "
        f"{production_ratio:.2f}, {verdict}.",
        f"Median of {arguments.rounds} interleaved rounds of {arguments.seconds:g} s; {WORKERS} sync workers, "
        f"{CONNECTIONS} connections, {generator}.",
    ]
    print("\n".join(lines))
    tools = (("wrk", "--version"),) if wrk_installed() else ()
    print(f"appended to {append_section('Request overhead (bench/request_overhead.py)', lines, tools)}")


if __name__ == "__main__":
    main(sys.argv[1:])
