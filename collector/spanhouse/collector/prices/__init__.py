"""Model prices: effective-dated rows in model_prices (genai-prices catalogue + user overrides).

`book` holds the rows and the matching rule, `catalogue` turns genai-prices into rows,
`overrides` reads user prices (YAML or CLI), `store` reads and writes model_prices and
re-prices agent_steps, `refresher` keeps a running collector's price book current.
"""
