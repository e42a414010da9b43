-- Bid latency by exchange and hour, today (UTC): the bidder's own time from a
-- request's first byte to its decision, microseconds.
SELECT exchange,
       date_trunc('hour', from_unixtime(ts_ms / 1000)) AS hour,
       count(*) AS requests,
       approx_percentile(latency_us, 0.50) AS p50_us,
       approx_percentile(latency_us, 0.99) AS p99_us,
       approx_percentile(latency_us, 0.999) AS p999_us,
       max(latency_us) AS max_us
FROM events
WHERE dt = CAST(current_date AS varchar) AND type IN ('bid', 'nobid')
GROUP BY 1, 2
ORDER BY hour;
