-- Aggregate function combinators (If, State, Merge, ...): sumIf resolves to sum.
SELECT name FROM system.aggregate_function_combinators
