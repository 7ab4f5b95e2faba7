# Django logging on the Elastic Stack. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help test run-app

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements-dev.txt app/requirements.txt setup/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 12) else "Python 3.12+ is needed (found " + sys.version.split()[0] + "): install it, or run with PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

test: $(VENV)/.installed ## Run the test suite in its own venv (live tests skip when the stack is down)
	$(VENV_PYTHON) -m pytest $(PYTEST_ARGS)

run-app: $(VENV)/.installed ## Run the app under gunicorn without Docker on 127.0.0.1:8000, logs in ./var/log
	@mkdir -p var/log var/static
	@test -s var/secret_key || $(VENV_PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
	cd app && export DJANGO_SECRET_KEY="$$(cat ../var/secret_key)" DJANGO_LOG_DIR="$(CURDIR)/var/log" \
		DJANGO_SQLITE_PATH="$(CURDIR)/var/db.sqlite3" DJANGO_STATIC_ROOT="$(CURDIR)/var/static" \
		DJANGO_SECURE_COOKIES=false GUNICORN_BIND="$${GUNICORN_BIND:-127.0.0.1:8000}" && \
		../$(VENV_PYTHON) manage.py migrate --noinput && \
		../$(VENV_PYTHON) manage.py collectstatic --noinput --verbosity 0 && \
		if [ -n "$${DEMO_USERNAME:-}" ]; then ../$(VENV_PYTHON) manage.py create_demo_user; fi && \
		exec ../$(VENV)/bin/gunicorn --config gunicorn.conf.py config.wsgi
