-- ClickHouse server only: what the reader may spend per minute, over every tenant together (the
-- collector limits each tenant's queries in flight itself).
CREATE QUOTA OR REPLACE spanhouse_reader
    FOR INTERVAL 1 minute MAX queries = 1200, execution_time = 1800, result_rows = 100000000
    TO spanhouse_reader
