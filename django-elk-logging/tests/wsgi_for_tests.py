"""The smallest WSGI app for the access logger's test: it answers with the request id an app would assign, and the
pid of the worker that served it."""

import os

APP_REQUEST_ID = "0123456789abcdef0123456789abcdef"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Request-ID", APP_REQUEST_ID),
                              ("X-Worker-Pid", str(os.getpid()))])
    return [b"ok"]
