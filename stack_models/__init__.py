"""Models of the stack's parts that cannot run without Docker, following their upstream sources.

Logstash's pipeline (logstash_pipeline, wiring logstash_inputs and logstash_filters over logstash_patterns,
logstash_options, logstash_events, logstash_dates, logstash_config and grok; on Joni and Joda through joni when
jruby is installed) and the ES|QL the alert rules use (esql). The offline drill (drill/) and the tests use them;
the tests check every model against the real engine wherever one runs here.
"""
