"""Log-line safety, request context and error reporting shared by Django and gunicorn."""
