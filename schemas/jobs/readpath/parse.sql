-- ClickHouse's own parse of a user query, made without running it: the query is only a String
-- value here. formatQuery refuses several statements and gives the canonical text that is run;
-- parseQueryToJSON gives the tree of that same text, which readpath/syntax.py walks.
SELECT
    formatQuery({query:String}) AS canonical,
    parseQueryToJSON(canonical) AS tree
