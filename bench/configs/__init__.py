"""Settings modules for the benchmarks: config.settings with another LOGGING (bench/logging_configs.py)."""
