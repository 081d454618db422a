-- Keep every row of {table} forever (drop its TTL clause).
ALTER TABLE {table:Identifier} REMOVE TTL
