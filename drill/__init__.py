"""Incident-response drills: attack traffic against the sample app, and proof that the stack detects it.

Live, a drill waits for the alert document Kibana writes to the django-alerts data stream. Offline,
against `make run-app`, it runs the lines the app wrote through the Logstash pipeline's model and
evaluates the alert rule on the documents they make (stack_models/). Either way it appends one
record to the drill log.
"""
