-- Clusters this server knows (remote_servers), with their shard and replica counts.
SELECT cluster, uniqExact(shard_num) AS shards, count() AS replicas FROM system.clusters GROUP BY cluster ORDER BY cluster
