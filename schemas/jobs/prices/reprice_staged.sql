-- How many steps the staged re-price (step 1) found a price for.
SELECT count() AS staged FROM agent_steps_reprice
