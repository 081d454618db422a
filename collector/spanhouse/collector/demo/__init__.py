"""`spanhouse demo`: a collector on a fresh embedded store, a simulated multi-agent workload, a report."""
