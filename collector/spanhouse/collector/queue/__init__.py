"""The durable queue between receivers and exporters: a write-ahead log plus the rows in memory."""

from spanhouse.collector.queue.persistent import PersistentQueue, QueueGroup
from spanhouse.collector.queue.wal import WriteAheadLog

__all__ = ["PersistentQueue", "QueueGroup", "WriteAheadLog"]
