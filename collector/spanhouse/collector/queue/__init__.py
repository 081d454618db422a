"""The durable queue between receivers and exporters: a write-ahead log plus the rows in memory.

Guarantees and how they are met:

- Nothing acknowledged is lost. A request is appended to the WAL and fsynced (one fsync
  shared by every request that arrived meanwhile) before the client gets its success reply.
  The exporter drains the WAL in order; a segment is deleted only once every record in it is
  stored. On restart the WAL is replayed. When the WAL reaches its size limit the receivers
  throttle (gRPC RESOURCE_EXHAUSTED with RetryInfo, HTTP 429 with Retry-After) rather than
  buffer in memory.

- Exactly-once counting, in two layers, because there are two kinds of duplicate:

  1. A batch re-inserted after a crash or a failed insert (the collector's own retry). Each
     insert carries ``insert_deduplication_token = <wal id>-<first seq>-<last seq>``, and the
     range is written to the WAL checkpoint before the insert, so a replay inserts exactly the
     same range under exactly the same token; ClickHouse (``non_replicated_deduplication_window``
     on plain tables, the replicated log on clusters) drops the second copy. Nothing is stored
     twice, so even readers that know nothing of spanhouse (Grafana on otel_traces) count right.
  2. The same span sent twice by a client (an OTLP retry after a lost reply, a re-export):
     these are different requests with different tokens, so tokens cannot help. otel_traces and
     agent_steps are ReplacingMergeTree tables whose sorting key ends in (TraceId, SpanId), so
     copies of a span collapse at merge time, and every read path of the collector (SQL API,
     reports, CLI) sets ``final = 1`` so they collapse at read time too, before any merge.

  Tokens alone miss client retries; ReplacingMergeTree alone would store every replay twice
  until a merge and count it twice for readers without FINAL; dedup-at-read with a view would
  need every query rewritten. Together they cover both cases with unchanged table names and SQL.
"""

from spanhouse.collector.queue.persistent import PersistentQueue, QueueGroup
from spanhouse.collector.queue.wal import WriteAheadLog

__all__ = ["PersistentQueue", "QueueGroup", "WriteAheadLog"]
