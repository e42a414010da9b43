-- Why requests got no bid, today (UTC). No-bids are sampled
-- (events.nobid_sample_rate, default 0.01): the estimate scales by its inverse.
SELECT nobid_reason, count(*) AS sampled, count(*) * 100 AS estimated
FROM events
WHERE dt = CAST(current_date AS varchar) AND type = 'nobid'
GROUP BY 1
ORDER BY 2 DESC;
