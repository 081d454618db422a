"""The collector's HTTP API beside OTLP: health, metrics, read-only SQL and reports."""
