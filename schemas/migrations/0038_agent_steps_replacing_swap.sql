-- The new table takes the name agent_steps; the old one is left as agent_steps_replacing.
EXCHANGE TABLES agent_steps AND agent_steps_replacing
