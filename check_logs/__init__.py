"""make check-logs: does a Django project's log folder parse, as the stack's Logstash pipeline would read it?

Offline, without Docker: the files the pipeline's file inputs read go through the pipeline's model
(stack_models/), checked on Logstash's own regex engine and date library when jruby is installed.
Modules, each importing only those listed before it: errors.py; folder.py (which files are read),
engines.py (which engine), diagnosis.py (why an event failed), findings.py (what is noticed of an
event), tally.py (bounded counts), check.py (the run), report.py and report_text.py (the report),
settings.py (the time zone), __main__.py (the command).
"""
