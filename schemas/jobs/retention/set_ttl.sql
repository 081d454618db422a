-- Keep rows of {table} for {seconds} after their time column {column}; parts whose rows have
-- all expired are dropped whole (the tables set ttl_only_drop_parts = 1). The caller checks
-- {table} and {column} against its list of tables with retention.
ALTER TABLE {table:Identifier} MODIFY TTL toDateTime({column:Identifier}) + toIntervalSecond({seconds:UInt64})
