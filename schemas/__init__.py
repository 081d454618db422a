"""ClickHouse SQL shipped with spanhouse: migrations/ (numbered DDL) and jobs/ (one query per file)."""
