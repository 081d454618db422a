-- Rows stored before the engine change move to the new table.
INSERT INTO agent_steps_replacing SELECT * FROM agent_steps
