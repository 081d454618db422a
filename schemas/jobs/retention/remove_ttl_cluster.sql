-- remove_ttl.sql on a cluster install: {table} = <table>_local of every node.
ALTER TABLE {table:Identifier} ON CLUSTER '{cluster}' REMOVE TTL
