-- Every function this ClickHouse knows, for the read path's function rule (readpath/catalogue.py).
SELECT name, is_aggregate, case_insensitive, alias_to, categories, toString(origin) AS origin
FROM system.functions
