-- The old MergeTree agent_steps, emptied into the new one by 0037.
DROP TABLE IF EXISTS agent_steps_replacing
