"""Sample lines of the package's security events (django_elk_logging/log_lines.py's CONTEXT_FIELDS, the events
and messages of django-elk-logging/README.md), written out literally as the package writes them: one per event
action of issue 19, each with the origin and identity keys of issue 20 (ORIGIN), and the access line before issue
19, before issue 20 (its peer last) and now (the pid and the identity after the peer).

Each value is escaped as log_lines._render_value escapes it (escaping.neutralise with quoted=True: a quote as
\\x22, a backslash doubled, a bidi or control character as \\uXXXX or \\xXX; quoted unless it is all
[A-Za-z0-9._:/@+-]). tests/stack/test_pipeline_account_events.py checks that the package's formatter writes
exactly these contexts from the raw values, so a drift of either side fails there.
"""

# A request id and the peer of every sample; the record ids tell the documents apart.
REQUEST_ID = "0123456789abcdef0123456789abcdef"
PEER_IP = "10.0.0.2"
CLIENT_IP = "203.0.113.7"
TIMESTAMP = "2026-12-08 10:00:00,000"
# The identity the samples are written with (the settings LOG_HOST_NAME, LOG_SERVICE_NAME, LOG_SERVICE_VERSION,
# LOG_SERVICE_ENVIRONMENT), and the process that wrote them.
HOST_NAME, SERVICE_NAME, SERVICE_VERSION, SERVICE_ENVIRONMENT, PID = "web-1", "shop", "1.4.2", "production", 4242
# Where a record was logged and who logged it: the keys after the context fields (log_lines.ORIGIN_FIELDS, then
# identity.Identity's), on every record. A "<lambda>" or a space in a value is quoted, like any value.
ORIGIN = (f"logger=security file=signals.py line=60 function=log_user_logged_in pid={PID} host={HOST_NAME} "
          f"service={SERVICE_NAME} service_version={SERVICE_VERSION} environment={SERVICE_ENVIRONMENT}")

# action -> (level, the context after request_id and record_id, the message), with the raw field values
# the context renders (None: a value the sample does not check against the package).
SECURITY_SAMPLES = {
    "password_changed": (
        "INFO",
        'event=password_changed event_code=authn_password_change user=alice target_user="bob\\u202e" '
        f"client_ip={CLIENT_IP} peer_ip={PEER_IP} client_request_id=client-req-0001 "
        "path=/accounts/password_change/ user_agent=\"Mozilla/5.0 (X11)\"",
        "Password changed: bob\\u202e",
    ),
    "password_change_failed": (
        "WARNING",
        "event=password_change_failed event_code=authn_password_change_fail user=alice target_user=alice "
        f"client_ip={CLIENT_IP} peer_ip={PEER_IP} path=/accounts/password_change/",
        "Password change failed (password_incorrect, password_too_short): alice",
    ),
    "password_reset_requested": (
        "INFO",
        'event=password_reset_requested event_code=authn_password_change target_user="mallory\\x22 new=true" '
        f"client_ip={CLIENT_IP} peer_ip={PEER_IP} path=/accounts/password_reset/",
        'Password reset requested: mallory" new=true',
    ),
    "password_reset_completed": (
        "INFO",
        "event=password_reset_completed event_code=authn_password_change target_user=bob "
        f"client_ip={CLIENT_IP} peer_ip={PEER_IP} path=/accounts/reset/MQ/set-password/",
        "Password reset completed: bob",
    ),
    "session_rejected": (
        "WARNING",
        "event=session_rejected event_code=session_use_after_expire user=alice "
        f"client_ip={CLIENT_IP} peer_ip={PEER_IP} path=/accounts/profile/",
        "Session rejected (the password (or SECRET_KEY) changed since the session began): alice",
    ),
    "privilege_changed": (
        "WARNING",
        'event=privilege_changed event_code=authz_change user=admin target_user=bob privilege=is_superuser '
        f"old=false new=true client_ip={CLIENT_IP} peer_ip={PEER_IP} path=/admin/auth/user/42/change/",
        "Privilege changed: is_superuser of user bob false -> true by admin",
    ),
    "user_created": (
        "WARNING",
        "event=user_created event_code=user_created user=admin target_user=carol "
        f"client_ip={CLIENT_IP} peer_ip={PEER_IP} path=/admin/auth/user/add/",
        "User created: carol by admin",
    ),
    "user_deleted": (
        "WARNING",
        "event=user_deleted event_code=user_deleted user=admin target_user=carol "
        f"client_ip={CLIENT_IP} peer_ip={PEER_IP} path=/admin/auth/user/43/delete/",
        "User deleted: carol by admin",
    ),
    "admin_action": (
        "WARNING",
        "event=admin_action event_code=authz_admin user=admin target_user=bob object_type=auth.user object_id=42 "
        f"operation=change client_ip={CLIENT_IP} peer_ip={PEER_IP} path=/admin/auth/user/42/change/",
        "Admin change of auth.user 42 (bob) by admin: Changed Superuser status.",
    ),
    "request_refused": (
        "WARNING",
        f"event=request_refused event_code=input_validation_fail client_ip={CLIENT_IP}",
        "Refused by gunicorn with 400 Bad Request: Invalid HTTP request line: 'GET /x HTTP/1.1 junk'",
    ),
    "worker_timeout": (
        "WARNING",
        "event=worker_timeout event_code=sys_crash",
        "Worker pid=4242 timed out (silent for over 30 s) and is killed by gunicorn",
    ),
}
# privilege_changed on a group, and on a group's permissions (target_group, no target_user).
GROUP_MEMBERSHIP = (
    "WARNING",
    'event=privilege_changed event_code=authz_change user=admin target_user=bob privilege="group:ops team" '
    "old=false new=true",
    "Privilege changed: group:ops team of user bob false -> true by admin",
)
GROUP_PERMISSION = (
    "WARNING",
    'event=privilege_changed event_code=authz_change user=admin target_group="ops team" '
    "privilege=permission:auth.delete_user old=false new=true",
    "Privilege changed: permission:auth.delete_user of group ops team false -> true by admin",
)

# A value written to forge a field, a record or the context's end, and its rendering (quoted, escaped).
HOSTILE_VALUE = 'x" ] user=root new=true \\ \u202e\nINFO'
HOSTILE_WRITTEN = '"x\\x22 ] user=root new=true \\\\ \\u202e\\nINFO"'


def security_line(level: str, context: str, message: str, record_number: int = 1, module: str = "signals",
                  request_id: str = REQUEST_ID, origin: str | None = ORIGIN) -> str:
    """One security record as log_lines.SafeFormatter writes it (the app's verbose format); ``origin`` None: a
    line written before issue 20."""
    keys = context if origin is None else f"{context} {origin}"
    return f"{level} {TIMESTAMP} {module} [request_id={request_id} record_id={record_number:016x} {keys}] {message}\n"


# The access line (access_lines.ACCESS_LOG_FORMAT): before issue 19, then with the trailing peer field, then with
# the pid and the identity after it, each one word ("-" when unknown; a space escaped as \x20).
ACCESS_BEFORE = (f'{CLIENT_IP} - - [08/Dec/2026:10:00:00 +0000] "GET /x?a=1 HTTP/1.1" 200 5 "-" "curl/8" 1234567 '
                 f"{REQUEST_ID} 00000000000000a1")
ACCESS_IDENTITY = f"{PID} {HOST_NAME} {SERVICE_NAME} {SERVICE_VERSION} {SERVICE_ENVIRONMENT}"
# A process whose settings name no version or environment, and (gunicorn's arbiter) no project.
ACCESS_IDENTITY_UNKNOWN = f"{PID} {HOST_NAME} - - -"


def access_line(peer: str | None, identity: str | None = ACCESS_IDENTITY) -> str:
    """The access line, with ``peer`` and then ``identity`` as its trailing fields (None: a line written before
    the field existed; a line without a peer has no identity either)."""
    if peer is None:
        return ACCESS_BEFORE + "\n"
    return ACCESS_BEFORE + f" {peer}" + ("" if identity is None else f" {identity}") + "\n"
