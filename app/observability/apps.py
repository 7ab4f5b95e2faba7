from django.apps import AppConfig
from django.core.signals import request_finished, request_started


class ObservabilityConfig(AppConfig):
    name = "observability"

    def ready(self):
        from .request_context import begin_request, end_request

        request_started.connect(begin_request, dispatch_uid="observability.begin_request")
        request_finished.connect(end_request, dispatch_uid="observability.end_request")
