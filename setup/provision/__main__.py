"""`python -m provision`: check the settings and assets, then run every step in dependency order."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from provision.advanced_settings import sync_advanced_setting
from provision.assets import Assets, load_assets
from provision.elasticsearch_steps import ALERTING, NATIVE_USERS, ElasticsearchSteps
from provision.errors import ConfigError, ProvisionError
from provision.existing_indices import upgrade_existing_indices
from provision.kibana_steps import KibanaSteps
from provision.output import complain, redact_secrets, say
from provision.rule_keys import renew_rule_keys
from provision.settings import Settings, load_settings

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def provision(settings: Settings, assets: Assets) -> None:
    es = ElasticsearchSteps(settings)
    kibana = None
    try:
        es.wait_until_ready()
        es.sync_kibana_system_password()
        for role in assets.roles:
            es.sync_role(role)
        for user in NATIVE_USERS:
            es.sync_user(user)
        for policy in assets.ilm_policies:
            es.sync_ilm_policy(policy)
        # Before the templates: an index a template creates runs the pipelines its settings name.
        for pipeline in assets.ingest_pipelines:
            es.sync_ingest_pipeline(pipeline)
        for template in assets.index_templates:
            es.sync_index_template(template)
        # Once the templates and the pipelines they name are in place: the indices they already match.
        for template in assets.index_templates:
            upgrade_existing_indices(es, template)
        rules_role = next(role for role in assets.roles if role.name == ALERTING.name)
        kibana = KibanaSteps(settings, es, rules_role)
        kibana.wait_until_available()
        kibana.sync_saved_objects(assets.saved_objects)
        for setting in assets.advanced_settings:
            sync_advanced_setting(kibana.kibana, setting)
        for connector in assets.connectors:
            kibana.sync_connector(connector)
        unchanged = []
        for rule in assets.rules:
            current = kibana.sync_rule(rule)
            if current is not None:
                unchanged.append((rule, current))
        renew_rule_keys(es, kibana.rules_kibana, rules_role, unchanged)
    finally:
        if kibana is not None:
            kibana.close()
        es.close()


def main(environ: Mapping[str, str]) -> int:
    # The transport logs each failed attempt; the wait loops already say what is going on.
    logging.getLogger("elastic_transport").setLevel(logging.CRITICAL)
    try:
        settings = load_settings(environ)
        # Only validated passwords are redacted: a refused one like "password" must not mangle the error text.
        redact_secrets(settings.passwords.values())
        assets = load_assets(
            settings.assets_dir, settings.retention_days, settings.detections, index_replicas=settings.index_replicas
        )
        provision(settings, assets)
    except ConfigError as error:
        complain(f"setup: configuration error:\n{error}")
        return EXIT_CONFIG
    except ProvisionError as error:
        complain(f"setup: failed:\n{error}")
        return EXIT_FAILED
    say("setup: done")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(os.environ))
