"""Offline checks of the Compose stack's files (no Docker engine needed); part of `make test`."""
