"""One-shot provisioning of Elasticsearch and Kibana for the django-logs stack: `python -m provision`.

Run by the `setup` service once Elasticsearch is up. Every step is idempotent: it reads the current
state first and writes only what differs, printing one line per step (created / updated / unchanged).
What it creates is declared by files, `<kind>/<name>.json`, named after what they create (assets.py);
the environment it reads is listed in settings.py.

Exit codes: 0 done, 1 a provisioning step failed, 2 the configuration is wrong (bad variable, bad or
missing asset file, or a password Elasticsearch/Kibana refuses). No password is ever printed.
"""
