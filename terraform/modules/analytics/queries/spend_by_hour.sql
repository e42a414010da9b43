-- Spend by campaign and hour, today (UTC): billed impressions and what they
-- cost, the clearing price (CPM micros) / 1000 per impression, per currency.
SELECT campaign_id,
       currency,
       date_trunc('hour', from_unixtime(ts_ms / 1000)) AS hour,
       count(*) AS impressions,
       sum(win_price_micros) / 1000 / 1e6 AS spend
FROM events
WHERE dt = CAST(current_date AS varchar) AND type = 'imp'
GROUP BY 1, 2, 3
ORDER BY hour, spend DESC;
