-- One day of a table, every stored column (MATERIALIZED ones are computed again on import).
SELECT * FROM {table:Identifier} WHERE toDate(Timestamp) = {day:Date}
