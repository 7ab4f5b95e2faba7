# Django logging on the Elastic Stack. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?=
COMPOSE ?= docker compose
# --wait-timeout bounds each wait, not the whole `up` (docker/compose pkg/compose/start.go): from
# Compose 2.30, which make up requires, every service's wait for its dependencies gets its own
# timeout (before: none), and the final --wait for all services a fresh one. `--wait` fails by itself once a healthcheck
# gives up, so this outlasts the longest single wait: a healthcheck budget (start_period +
# retries x interval; Kibana's 660 s is the longest) or setup's whole run, which Logstash waits
# for (at most 600 s for Kibana plus its other steps).
UP_TIMEOUT ?= 900
# down, ps, logs and clean create no container, so they need no setting: each variable that
# the compose files require (${NAME:?...}, read from the files themselves) gets a placeholder, and
# they work without a complete .env (`make down` after deleting .env still stops the stack).
# They read every compose file and enable every Compose profile, whatever COMPOSE_FILE selects now, so
# they reach the containers and volumes of any stack profile and mode a previous `make up` started:
# the cluster's nodes, the single node, and the sample app that own-app mode leaves out
# (docker-compose.own-app.yml). '*' enables every profile (compose-spec/compose-go, pull request #175).
COMPOSE_ALL_FILES := docker-compose.yml docker-compose.tls.yml docker-compose.cluster.yml docker-compose.own-app.yml
COMPOSE_REQUIRED_VARIABLES = $(sort $(shell grep -ohE '\$$\{[A-Za-z_][A-Za-z0-9_]*:?\?' $(COMPOSE_ALL_FILES) | tr -d '$${:?'))
COMPOSE_WITHOUT_ENV = $(foreach name,$(COMPOSE_REQUIRED_VARIABLES),$(name)=placeholder-not-read-by-this-command) $(COMPOSE) $(addprefix -f ,$(COMPOSE_ALL_FILES)) --profile '*'
# The services some profile or mode runs and the files COMPOSE_FILE selects do not, one a line. make up
# removes their containers, which Compose leaves running (and holding their ports): it never touches a
# service the selected files do not define (an orphan, without --remove-orphans), nor one a profile
# disables there, which is not even an orphan (docker/compose pkg/compose/containers.go, isOrphaned):
# the cluster's single node, own-app mode's sample app.
UNSELECTED_SERVICES = comm -23 <($(COMPOSE_WITHOUT_ENV) config --services | sort) <($(COMPOSE) config --services | sort)
# Succeeds when the compose files .env selects (COMPOSE_FILE) run the sample app.
SAMPLE_APP_ENABLED = $(COMPOSE) config --services | grep -qx app
# The profile COMPOSE_FILE selects, as shell assignments (PROFILE, TLS, SCHEME), or a clear error.
STACK_PROFILE = $(PYTHON) scripts/stack_profile.py shell
# Written before `up`: when it started, so that only certificates written in this run restart anything.
UP_STARTED := var/.up-started
# `make logs SERVICE=logstash` follows one service.
SERVICE ?=
# `make bench-live COLD_START=1` also times make up from docker compose down (it restarts the stack).
COLD_START ?=
# `make drill SCENARIO=brute-force [OFFLINE=1 [BELOW_THRESHOLD=1]]`; every drill appends a line to DRILL_LOG.
# Offline, BASE_URL (default http://127.0.0.1:8000/, make run-app) and LOG_DIR (default var/log) name another
# app on loopback and its log folder: it must answer like the sample app and log with django_elk_logging.
DRILL_SCENARIOS := brute-force brute-force-account credential-stuffing brute-force-success suspicious error-burst privilege-gain
SCENARIO ?=
OFFLINE ?=
BELOW_THRESHOLD ?=
BASE_URL ?=
LOG_DIR ?=
DRILL_LOG ?= var/drill-log.tsv
# `make check-logs LOG_DIR=path/to/logs [TIME_ZONE=Europe/Paris] [ENGINE=auto|joni|model] [JSON=1]` (LOG_DIR above).
ENGINE ?= auto
JSON ?=
# A value as one shell word, whatever quotes it holds.
shell_quote = '$(subst ','\'',$(1))'

# The Python this project runs on, stated once: pyproject.toml's requires-python (">=3.12"), which
# .python-version, ruff's target-version and the README's quick start follow (tests/stack/test_make_python.py,
# tests/stack/test_docs.py).
# Every target that runs Python checks its interpreter first, before anything that needs it:
# $(call require_python,PYTHON) for the interpreter make runs scripts/ and builds the venv with,
# $(call require_python,VENV_PYTHON) for the venv's. The message says what was found and how to fix it.
PYTHON_MIN = $(shell sed -n 's/^requires-python = ">=\([0-9][0-9.]*\)"$$/\1/p' pyproject.toml 2>/dev/null)
define require_python
	@sh scripts/check_python.sh '$(1)' '$(PYTHON_MIN)' '$(or $(MAKECMDGOALS),$@)' $($(1))
endef

# Recipe lines that stop with a clear message when Docker cannot run the stack.
define require_docker
	@command -v docker >/dev/null 2>&1 || { echo "error: docker is not installed: install Docker Engine or Docker Desktop (https://docs.docker.com/get-docker/)." >&2; exit 1; }
	@$(COMPOSE) version >/dev/null 2>&1 || { echo "error: Docker Compose v2 is missing: install the docker-compose-plugin package (or Docker Desktop), then check with: docker compose version" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "error: the Docker engine is not reachable: start Docker (Desktop, or: sudo systemctl start docker) and check with: docker info" >&2; exit 1; }
endef

.DEFAULT_GOAL := help

.PHONY: help test lint run-app env up down logs ps clean demo drill check-logs test-integration bench bench-live

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The package's pyproject.toml too: its metadata (dependencies, version) is installed with it.
$(VENV)/.installed: requirements-dev.txt app/requirements.txt setup/requirements.txt django-elk-logging/pyproject.toml django-elk-logging/requirements-test.txt
	$(call require_python,PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Two suites, two configs: the logging package's own (django-elk-logging/pyproject.toml, its
# settings), here and on the oldest and newest Python it supports, and the stack's; PYTEST_ARGS goes to the stack's.
test: $(VENV)/.installed ## Run both test suites: the logging package's (on each supported Python), then the stack's (live tests skip when it is down)
	$(call require_python,VENV_PYTHON)
	cd django-elk-logging && $(CURDIR)/$(VENV_PYTHON) -m pytest
	$(VENV_PYTHON) scripts/package_pythons.py
	$(VENV_PYTHON) -m pytest $(PYTEST_ARGS)

# What `make lint` checks besides the Python code; the venv and var/ hold no project files.
LINT_SHELL_SCRIPTS = .ci/run $(shell find . -name '*.sh' -not -path './.venv/*' -not -path './var/*')
LINT_DOCKERFILES = $(shell find . -name Dockerfile -not -path './.venv/*' -not -path './var/*')

lint: $(VENV)/.installed ## Lint Python (ruff), shell scripts (shellcheck), Dockerfiles (hadolint), workflows (actionlint, zizmor)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/shellcheck $(LINT_SHELL_SCRIPTS)
	$(VENV)/bin/hadolint $(LINT_DOCKERFILES)
	$(VENV)/bin/actionlint -shellcheck=$(VENV)/bin/shellcheck -pyflakes=
	$(VENV)/bin/zizmor --offline --quiet .github/workflows

run-app: $(VENV)/.installed ## Run the app under gunicorn without Docker on 127.0.0.1:8000 with .env's settings (as its container gets them), logs in ./var/log
	$(call require_python,VENV_PYTHON)
	@mkdir -p var/log var/static
# The container's start path: collectstatic (the image's build step), then app/docker-entrypoint.sh
# (migrate, demo user, gunicorn) with the venv's python and gunicorn first on PATH. Each runs with the
# app container's settings when .env exists (docker-compose.yml's app service, the environment before
# .env), else var/secret_key as the key, and run-app's own paths (scripts/run_app_env.py); no shell
# sees a value.
	cd app && export PATH="$(CURDIR)/$(VENV)/bin:$$PATH" && \
		"$(CURDIR)/$(VENV_PYTHON)" ../scripts/run_app_env.py python manage.py collectstatic --noinput --verbosity 0 && \
		exec "$(CURDIR)/$(VENV_PYTHON)" ../scripts/run_app_env.py --quiet ./docker-entrypoint.sh gunicorn --config gunicorn.conf.py config.wsgi

env: ## Create .env with fresh random secrets (mode 0600) if missing; check it if present
	$(call require_python,PYTHON)
	@$(PYTHON) scripts/create_env.py

up: env ## Build and start the stack (the profile COMPOSE_FILE selects), wait until every service is healthy, print the URLs
	$(call require_python,PYTHON)
	$(require_docker)
	@sh scripts/check_compose_version.sh "$$($(COMPOSE) version --short 2>/dev/null)"
	@$(STACK_PROFILE) >/dev/null
# Compose's own message when it cannot read the files (a variable left unset, a bad key), before
# anything reads its output.
	@$(COMPOSE) config --quiet
	@set -o pipefail; $(COMPOSE) config --format json | $(PYTHON) scripts/check_mount_permissions.py
# vm.max_map_count is the kernel's, the same inside any container: read it in the Elasticsearch image.
	@eval "$$($(STACK_PROFILE))" && if [ "$$PROFILE" = cluster ]; then \
		count="$$($(COMPOSE) run --rm --no-deps -T --entrypoint cat certs /proc/sys/vm/max_map_count)" && \
		$(PYTHON) scripts/stack_profile.py max-map-count "$$count"; fi
# A switch of profile or mode: the services the new one does not run go first (their volumes stay).
	@unselected="$$($(UNSELECTED_SERVICES))" && \
		present="$$(if [ -n "$$unselected" ]; then $(COMPOSE_WITHOUT_ENV) ps --all --services $$unselected; fi)" && \
		if [ -n "$$present" ]; then \
			echo "Switching: removing the containers of" $$present "(COMPOSE_FILE does not run them; their volumes stay)." && \
			$(COMPOSE_WITHOUT_ENV) rm --stop --force $$present; fi
	@mkdir -p var && date -u +%Y-%m-%dT%H:%M:%SZ > $(UP_STARTED)
# compose_up.py stops the wait early for a service that keeps restarting, and prints the failing services' logs.
	$(PYTHON) scripts/compose_up.py $(COMPOSE) up -d --build --wait --wait-timeout $(UP_TIMEOUT) || { echo "error: make up failed: see the error above; make ps and make logs SERVICE=<name> show more" >&2; exit 1; }
# Kibana and Logstash read their certificates at start: those that started before certs wrote new
# ones in this run restart (after a switch from the default profile, `up` recreated both already).
	@eval "$$($(STACK_PROFILE))" && if [ -n "$$TLS" ]; then \
		stale="$$($(PYTHON) scripts/renewed_certificates.py --compose $(call shell_quote,$(COMPOSE)) --since "$$(cat $(UP_STARTED))")" && \
		if [ -n "$$stale" ]; then \
			echo "Certificates renewed: restarting" $$stale && $(COMPOSE) restart $$stale && \
			$(PYTHON) scripts/compose_up.py $(COMPOSE) up -d --wait --wait-timeout $(UP_TIMEOUT); fi && \
		mkdir -p var/tls && $(COMPOSE) cp kibana:/usr/share/kibana/config/certs/ca/ca.crt var/tls/ca.crt; fi
	@eval "$$($(STACK_PROFILE))" && kibana="$$($(COMPOSE) port kibana 5601)" && \
		echo "" && \
		echo "Profile:     $$PROFILE" && \
		echo "Kibana:      $$SCHEME://$$kibana/" && \
		echo "Dashboards:  $$SCHEME://$$kibana/app/dashboards" && \
		echo "Discover:    $$SCHEME://$$kibana/app/discover" && \
		if [ -n "$$TLS" ]; then echo "CA:          var/tls/ca.crt (signed Kibana's and Elasticsearch's certificates; trust it in your browser)"; fi && \
		if $(SAMPLE_APP_ENABLED); then \
			app="$$($(COMPOSE) port app 8000)" && \
			echo "App:         http://$$app/" && \
			echo "credentials: user elastic, password in .env (ELASTIC_PASSWORD); app demo user DEMO_USERNAME / DEMO_PASSWORD in .env" && \
			echo "Send traffic with: make demo"; \
		else \
			echo "Logs:        your project's, from OWN_APP_LOG_DIR in .env (django_debug.log, security.log, access.log)" && \
			echo "credentials: user elastic, password in .env (ELASTIC_PASSWORD)"; \
		fi

down: ## Stop and remove the stack's containers (volumes, hence logs and indices, are kept)
	$(require_docker)
	$(COMPOSE_WITHOUT_ENV) down --remove-orphans

logs: ## Follow the stack's container logs (SERVICE=logstash for one service)
	$(require_docker)
	$(COMPOSE_WITHOUT_ENV) logs --follow --tail=200 $(SERVICE)

ps: ## Show the stack's containers, their health and setup's exit status, and which profile is running
	$(call require_python,PYTHON)
	$(require_docker)
	$(COMPOSE_WITHOUT_ENV) ps --all
	@kibana="$$($(COMPOSE_WITHOUT_ENV) ps -q kibana)"; \
		running="$$(if [ -n "$$kibana" ]; then docker inspect -f '{{index .Config.Labels "org.django-elk.profile"}}' $$kibana; fi)"; \
		selected="$$($(STACK_PROFILE) | sed -n 's/^PROFILE=\([a-z]*\).*/\1/p')"; \
		echo "Profile: running $${running:-none}; COMPOSE_FILE selects $${selected:-an unknown profile}$$(if [ -n "$$running" ] && [ "$$running" != "$$selected" ]; then echo ' (make up switches)'; fi)"

clean: ## Stop the stack and DELETE its volumes (indices, logs, app database); asks first, or CONFIRM=yes
	$(require_docker)
	@if [ "$(CONFIRM)" != "yes" ]; then \
		if [ ! -t 0 ]; then echo "error: make clean deletes every volume of the stack; run it in a terminal to confirm, or with CONFIRM=yes" >&2; exit 1; fi; \
		printf 'Delete the Elasticsearch indices, Logstash queue, app logs and app database? Type yes: '; \
		read -r answer; \
		if [ "$$answer" != "yes" ]; then echo "Nothing deleted."; exit 1; fi; \
	fi
	$(COMPOSE_WITHOUT_ENV) down --volumes --remove-orphans

demo: ## Send 300 realistic requests (views, 404s, 500s, logins, 403s) from inside the app container
	$(require_docker)
	@$(COMPOSE) config -q && { $(SAMPLE_APP_ENABLED) || { echo "error: make demo sends traffic to the sample app, which .env leaves out (COMPOSE_FILE with docker-compose.own-app.yml): use your own app, its logs reach Kibana the same way" >&2; exit 1; }; }
# generate_traffic reads DEMO_USERNAME and DEMO_PASSWORD from the container's environment,
# so the password is on no command line.
	@$(COMPOSE) exec -T app python manage.py generate_traffic --base-url http://127.0.0.1:8000/ --requests 300
	@echo "Now open Kibana's dashboards (see make up's output); events arrive within a few seconds."

drill: $(VENV)/.installed ## Rehearse a detection (SCENARIO=brute-force|brute-force-account|credential-stuffing|brute-force-success|suspicious|error-burst|privilege-gain); OFFLINE=1: against make run-app (BASE_URL=, LOG_DIR=: another app like it)
	$(call require_python,VENV_PYTHON)
	@case " $(DRILL_SCENARIOS) " in *" $(SCENARIO) "*) ;; *) echo "error: set SCENARIO to one of: $(DRILL_SCENARIOS) (e.g. make drill SCENARIO=brute-force)" >&2; exit 2;; esac
ifeq ($(OFFLINE),)
	$(if $(BASE_URL)$(LOG_DIR),@echo "error: BASE_URL and LOG_DIR apply to an offline drill only (OFFLINE=1): a live drill sends its traffic inside the sample app's container and the stack reads that app's logs" >&2; exit 2)
	$(require_docker)
	@$(COMPOSE) config -q && { $(SAMPLE_APP_ENABLED) || { echo "error: a live drill sends its traffic from inside the sample app's container, which .env leaves out (COMPOSE_FILE with docker-compose.own-app.yml); run it offline against make run-app: make drill SCENARIO=$(SCENARIO) OFFLINE=1" >&2; exit 2; }; }
endif
# app/ for the models' zone check (config.time_zones), setup/ for the rules as setup renders them, scripts/ for .env.
	PYTHONPATH=app:setup:scripts $(VENV_PYTHON) -m drill $(SCENARIO) --drill-log '$(DRILL_LOG)' --compose '$(COMPOSE)' \
		$(if $(OFFLINE),--offline) $(if $(BELOW_THRESHOLD),--below-threshold) \
		$(if $(BASE_URL),--base-url $(call shell_quote,$(BASE_URL))) $(if $(LOG_DIR),--log-dir $(call shell_quote,$(LOG_DIR)))

# No Docker: python -m check_logs reads the folder through the pipeline's model (Joni under jruby if installed).
# Its exit status: 0 every event parses, 1 failures found, 2 it cannot run; make itself exits 2 whenever a
# command fails, and names the status on its last line (Error 1, Error 2). TIME_ZONE given to make is passed
# on; otherwise the command reads it from the environment, then .env, else UTC.
check-logs: $(VENV)/.installed ## Check offline that a log folder parses as Logstash would read it (LOG_DIR=path; TIME_ZONE, ENGINE=auto|joni|model, JSON=1)
	$(call require_python,VENV_PYTHON)
	@if [ -z "$(LOG_DIR)" ]; then echo "error: set LOG_DIR to the folder your project logs to, e.g. make check-logs LOG_DIR=/srv/myproject/logs" >&2; exit 2; fi
	@PYTHONPATH=app:setup:scripts $(VENV_PYTHON) -m check_logs $(call shell_quote,$(LOG_DIR)) --engine $(call shell_quote,$(ENGINE)) \
		$(if $(filter command line,$(origin TIME_ZONE)),--time-zone $(call shell_quote,$(TIME_ZONE))) $(if $(JSON),--json)

test-integration: $(VENV)/.installed ## Run the live tests against the running stack; they fail, not skip, when it is down
	$(call require_python,VENV_PYTHON)
	REQUIRE_LIVE_STACK=1 $(VENV_PYTHON) -m pytest tests/integration $(PYTEST_ARGS)

# Each is bench/<name>.py, run as a module from here (app/ for the Django settings it serves); each
# prints its figures and appends them to bench/RESULTS.md.
# `make bench BENCH_BEFORE=<git revision>` also serves our logging package as it was then, interleaved.
BENCH_BEFORE ?=
BENCHMARKS := logging_overhead escaping_cost request_overhead first_request sustained_integrity parse_cost memory_budget check_logs_rate

bench: $(VENV)/.installed ## Run the benchmarks (bench/), print their ratios and append them to bench/RESULTS.md
	$(call require_python,VENV_PYTHON)
	@for benchmark in $(BENCHMARKS); do \
		echo "== bench/$$benchmark.py"; \
		args=""; if [ "$$benchmark" = request_overhead ] && [ -n "$(BENCH_BEFORE)" ]; then args="--before $(BENCH_BEFORE)"; fi; \
		PYTHONPATH=app $(VENV_PYTHON) -m bench.$$benchmark $$args || exit 1; \
	done

bench-live: $(VENV)/.installed ## On the running stack: ingest rate of a 200,000-record burst, write-to-searchable p50/p99 (COLD_START=1: cold start too); appends to bench/RESULTS-live.md
	$(call require_python,VENV_PYTHON)
	$(require_docker)
	@$(COMPOSE) config -q && { $(SAMPLE_APP_ENABLED) || { echo "error: make bench-live writes its records from inside the sample app's container, which .env leaves out (own-app mode)" >&2; exit 2; }; }
	COMPOSE='$(COMPOSE)' COLD_START='$(COLD_START)' PYTHONPATH=app:setup:scripts $(VENV_PYTHON) -m bench.live_ingest
