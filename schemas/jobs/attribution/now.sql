-- The store's clock in milliseconds: every watermark of the attribution job is on this clock.
SELECT toUnixTimestamp64Milli(now64(3)) AS now_ms
