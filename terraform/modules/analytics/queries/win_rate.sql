-- Win rate by campaign and exchange, last 30 days: bids, wins and losses.
-- A win counts once per impression, from the win notice (nurl), the billing
-- notice (burl) or both; a loss is a loss notice (lurl) whose reason is not 0
-- ("bid won"), once per impression. Bids neither won nor reported lost are in
-- flight, or lost on an exchange that sends no loss notices.
WITH totals AS (
  SELECT campaign_id,
         coalesce(exchange, '') AS exchange,
         count_if(type = 'bid') AS bids,
         count(DISTINCT IF(type IN ('win', 'imp'), request_id || '/' || imp_id)) AS wins,
         count(DISTINCT IF(type = 'loss' AND coalesce(loss_reason, -1) <> 0,
                           request_id || '/' || imp_id)) AS losses
  FROM events
  WHERE dt >= CAST(current_date - INTERVAL '30' DAY AS varchar)
    AND type IN ('bid', 'win', 'imp', 'loss')
  GROUP BY 1, 2
)
SELECT campaign_id,
       exchange,
       bids,
       wins,
       losses,
       round(100.0 * wins / nullif(bids, 0), 1) AS win_rate_pct,
       round(100.0 * losses / nullif(bids, 0), 1) AS loss_rate_pct
FROM totals
ORDER BY bids DESC;
