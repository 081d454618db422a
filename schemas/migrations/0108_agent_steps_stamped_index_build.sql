-- idx_stamped (0107) for the parts stored before it existed: a mutation that runs in the
-- background (it writes the index files only; about 5 s for 10M steps on 2 cores).
ALTER TABLE agent_steps MATERIALIZE INDEX idx_stamped
