-- A cheap fingerprint of model_prices: the collector reloads its price book when it changes.
SELECT count() AS rows, max(UpdatedAt) AS updated FROM model_prices
