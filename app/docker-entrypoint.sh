#!/bin/sh
# Migrate, make sure the demo user exists when one is configured, then hand over to gunicorn.
set -eu
python manage.py migrate --noinput
if [ -n "${DEMO_USERNAME:-}" ]; then
  python manage.py create_demo_user
fi
exec "$@"
