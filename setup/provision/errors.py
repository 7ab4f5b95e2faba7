"""The two ways setup stops: the operator's configuration is wrong, or a step failed."""


class ConfigError(Exception):
    """The operator must fix the configuration; retrying will not help."""


class ProvisionError(Exception):
    """A provisioning step failed."""
