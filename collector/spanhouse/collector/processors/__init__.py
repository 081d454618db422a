"""Turn received spans into table rows: flattening for otel_traces, GenAI normalization for agent_steps."""
