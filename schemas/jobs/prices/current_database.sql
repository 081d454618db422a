-- The database the store's tables live in (mutations need database-qualified names).
SELECT currentDatabase() AS database
