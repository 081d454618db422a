-- ClickHouse server only (`spanhouse migrate --reader-password`): the settings profile of the
-- restricted user that tenant queries run as. Read only; the settings the collector sets on each
-- query may change within these bounds (CHANGEABLE_IN_READONLY), never past them (MAX).
CREATE SETTINGS PROFILE OR REPLACE spanhouse_reader SETTINGS
    readonly = 1,
    max_memory_usage = 1073741824 MAX 8589934592 CHANGEABLE_IN_READONLY,
    max_execution_time = 30 MAX 600 CHANGEABLE_IN_READONLY,
    timeout_overflow_mode = 'throw' CHANGEABLE_IN_READONLY,
    max_result_rows = 100000 MAX 10000000 CHANGEABLE_IN_READONLY,
    max_result_bytes = 67108864 MAX 1073741824 CHANGEABLE_IN_READONLY,
    result_overflow_mode = 'throw' CHANGEABLE_IN_READONLY,
    max_concurrent_queries_for_user = 16,
    max_threads = 0 CHANGEABLE_IN_READONLY,
    final = 1 CHANGEABLE_IN_READONLY,
    do_not_merge_across_partitions_select_final = 1 CHANGEABLE_IN_READONLY,
    additional_table_filters CHANGEABLE_IN_READONLY,
    max_query_size = 262144 MAX 1048576 CHANGEABLE_IN_READONLY,
    max_parser_depth = 300 MAX 1000 CHANGEABLE_IN_READONLY,
    max_ast_depth = 300 MAX 1000 CHANGEABLE_IN_READONLY,
    max_parser_backtracks = 1000000 MAX 1000000 CHANGEABLE_IN_READONLY,
    SQL_spanhouse_tenant = 'no tenant' CHANGEABLE_IN_READONLY
