-- After a failed re-price: stop its unfinished mutation on agent_steps, which would otherwise
-- be retried forever and hold back later mutations.
KILL MUTATION WHERE database = currentDatabase() AND table = 'agent_steps' AND NOT is_done
