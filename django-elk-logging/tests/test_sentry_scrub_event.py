"""scrub_event on an event as the SDK hands it to before_send (serialized: reprs are text), each part literally."""

from django_elk_logging.sentry import scrub_event, scrubbing

EVENT = {
    "event_id": "0123456789abcdef0123456789abcdef",
    "transaction": "/reset/{uidb64}/{token}/",
    "request": {
        "url": "http://shop.example/reset/MQ/c4p5zs-abc/",
        "query_string": "next=/home&password=hunter2",
        "headers": {"X-Csrftoken": "tok", "X-Hub-Signature": "sig", "Cookie": "sessionid=s", "Accept": "text/html",
                    "Referer": "https://mail.example/?code=123&lang=fr"},
        "data": {"username": "hunter2-password", "email": "a@example.com", "new_password1": "p",
                 "remember": "on", "profile": {"api_token": "t", "city": "Paris"}},
    },
    "logentry": {"message": "%s: %s", "formatted": "Not Found: /reset/MQ/c4p5zs-abc/",
                 "params": ["Not Found", "/reset/MQ/c4p5zs-abc/"]},
    "extra": {"status_code": 404, "request": "<WSGIRequest: GET '/x/?sig=s1&page=2'>"},
    "breadcrumbs": {"values": [
        {"type": "http", "category": "httplib", "data": {"url": "https://api.example/v1/items", "method": "GET",
                                                          "http.query": "apikey=k&page=1", "http.fragment": "id_token=i"}},
        {"type": "log", "category": "django.request", "message": "Not Found: /accounts/confirm-email/MQ:1tY:abc/"},
    ]},
    "exception": {"values": [{"type": "RuntimeError", "value": "failed at /reset/MQ/c4p5zs-abc/", "stacktrace": {
        "frames": [{"function": "view", "module": "shop.views", "context_line": '    token = request.GET["token"]',
                    "vars": {"credentials": {"username": "u"}, "callback_kwargs": {"uidb64": "'MQ'", "token": "'abc'"},
                             "request": "<WSGIRequest: GET '/reset/MQ/c4p5zs-abc/'>", "count": 3}}]}}]},
    "user": {"id": "7", "username": "alice"},
    "contexts": {"trace": {"trace_id": "t", "dynamic_sampling_context": {"public_key": "public"}}},
    "tags": {"request_id": "r1"},
}


def test_every_part_of_an_event():
    assert scrub_event(EVENT, {}) == {
        "event_id": "0123456789abcdef0123456789abcdef",
        "transaction": "/reset/{uidb64}/{token}/",
        "request": {
            "url": "http://shop.example/reset/MQ/[REDACTED]/",
            "query_string": "next=/home&password=[REDACTED]",
            "headers": {"X-Csrftoken": "[REDACTED]", "X-Hub-Signature": "[REDACTED]", "Cookie": "[REDACTED]",
                        "Accept": "text/html", "Referer": "https://mail.example/?code=[REDACTED]&lang=fr"},
            "data": {"username": "[REDACTED]", "email": "[REDACTED]", "new_password1": "[REDACTED]",
                     "remember": "on", "profile": {"api_token": "[REDACTED]", "city": "Paris"}},
        },
        "logentry": {"message": "%s: %s", "formatted": "Not Found: /reset/MQ/[REDACTED]/",
                     "params": ["Not Found", "/reset/MQ/[REDACTED]/"]},
        "extra": {"status_code": 404, "request": "<WSGIRequest: GET '/x/?sig=[REDACTED]&page=2'>"},
        "breadcrumbs": {"values": [
            {"type": "http", "category": "httplib", "data": {
                "url": "https://api.example/v1/items", "method": "GET", "http.query": "apikey=[REDACTED]&page=1",
                "http.fragment": "id_token=[REDACTED]"}},
            {"type": "log", "category": "django.request", "message": "Not Found: /accounts/confirm-email/[REDACTED]/"},
        ]},
        "exception": {"values": [{"type": "RuntimeError", "value": "failed at /reset/MQ/[REDACTED]/", "stacktrace": {
            "frames": [{"function": "view", "module": "shop.views", "context_line": '    token = request.GET["token"]',
                        "vars": {"credentials": "[REDACTED]", "callback_kwargs": {"uidb64": "'MQ'", "token": "[REDACTED]"},
                                 "request": "<WSGIRequest: GET '/reset/MQ/[REDACTED]/'>", "count": 3}}]}}]},
        "user": {"id": "7", "username": "alice"},
        "contexts": {"trace": {"trace_id": "t", "dynamic_sampling_context": {"public_key": "public"}}},
        "tags": {"request_id": "r1"},
    }


def test_a_projects_before_send_runs_first_and_may_drop_the_event():
    def add_a_secret(event, hint):
        return {**event, "extra": {"note": "see /x?password=added-by-the-hook"}}

    assert scrubbing(add_a_secret)({"extra": {}}, {}) == {"extra": {"note": "see /x?password=[REDACTED]"}}
    assert scrubbing(lambda event, hint: None)({"extra": {}}, {}) is None
    assert scrubbing()({"extra": {"url": "/?token=t"}}, {}) == {"extra": {"url": "/?token=[REDACTED]"}}


def test_a_decoded_query_string_loses_all_after_its_first_secret():
    # Under ASGI sentry-sdk decodes the query string (integrations/_asgi_common.py, _get_query): "password=a%26b%3Bc"
    # arrives as "password=a&b;c", and "b" and "c" would pass for parameters of their own.
    event = {"request": {"query_string": "page=2&password=abc&def;ghi&sort=name"}}

    assert scrub_event(event, {}) == {"request": {"query_string": "page=2&password=[REDACTED]"}}
