"""Security records of database changes are written once the change is committed, never for one rolled back.

The receivers (account_changes, membership_changes, admin_actions, password_events) run inside the change's
transaction: the admin's views run in ``transaction.atomic`` (django/contrib/admin/options.py, changeform_view
and delete_view), and so does a view under ATOMIC_REQUESTS. They work out everything the record says at once
(the rows may be gone afterwards) and hand only the logging call to ``when_committed``.

transaction.on_commit (django/db/transaction.py) -> BaseDatabaseWrapper.on_commit
(django/db/backends/base/base.py): inside an atomic block the callback waits for the outermost block's
commit (run_and_clear_commit_hooks) and is dropped if it rolls back, or if the savepoint it was registered
in does; in autocommit it runs at once. Either way it runs in the thread and context that commits, inside
the request, so the request-context filter still adds request_id and client_ip. ``robust=True``: a
failing log call is logged by Django ("django.db.backends") and neither breaks the commit's other
callbacks nor the request.
"""

from django.db import transaction


def when_committed(using: str | None, log_record) -> None:
    """Calls ``log_record()`` once the transaction on database ``using`` (None: the default) commits."""
    transaction.on_commit(log_record, using=using, robust=True)
