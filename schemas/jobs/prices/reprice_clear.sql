-- Step 3 of 3 of a re-price (and a safety step before step 1): empties the staging table.
TRUNCATE TABLE agent_steps_reprice
