"""Benchmarks run by `make bench` (see the Makefile's BENCHMARKS); each appends to RESULTS.md (results.py)."""
