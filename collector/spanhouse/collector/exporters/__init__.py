"""Exporters: the last consumers of the pipeline (ClickHouse; OTLP forwarding later)."""
