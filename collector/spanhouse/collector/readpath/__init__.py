"""The read path: user SQL checked on ClickHouse's parse tree, run on readers' own connections.

See reader.py for the flow and who may read what, syntax.py for the check, tenants.py for the
per-tenant views that keep a tenant to its rows, pool.py for the connections and limits.
"""

from spanhouse.collector.readpath.limits import ReadLimits
from spanhouse.collector.readpath.reader import ReadPath, TenantReader

__all__ = ["ReadLimits", "ReadPath", "TenantReader"]
