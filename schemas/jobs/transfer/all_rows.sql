-- A small table without a time column (model_prices), whole.
SELECT * FROM {table:Identifier}
