"""Exporters: the last consumers of the pipeline (ClickHouse, OTLP forwarders) and their one retry loop."""
