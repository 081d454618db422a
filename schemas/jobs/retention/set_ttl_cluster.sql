-- set_ttl.sql on a cluster install: the TTL goes on {table} = <table>_local of every node (the
-- Distributed table holds no rows); replicas of a shard apply it through Keeper.
ALTER TABLE {table:Identifier} ON CLUSTER '{cluster}' MODIFY TTL toDateTime({column:Identifier}) + toIntervalSecond({seconds:UInt64})
