-- What it took to win, per campaign, last 7 days: on bids the exchange reported
-- lost (reason not 0) with the lowest bid that would have won, the median and
-- 90th percentile of that price next to our bid, CPM in the bid's currency. The
-- gap is what a first-price bidder learns from. A loss notice sent twice (to two
-- bidders, or across a restart) counts once.
WITH losses AS (
  SELECT campaign_id, currency, request_id, imp_id,
         min(min_to_win_micros) AS min_to_win_micros,
         min(bid_price_micros) AS bid_price_micros
  FROM events
  WHERE dt >= CAST(current_date - INTERVAL '7' DAY AS varchar)
    AND type = 'loss'
    AND coalesce(loss_reason, -1) <> 0
    AND min_to_win_micros IS NOT NULL
  GROUP BY 1, 2, 3, 4
)
SELECT campaign_id,
       currency,
       count(*) AS losses_priced,
       approx_percentile(min_to_win_micros, 0.5) / 1e6 AS min_to_win_p50,
       approx_percentile(min_to_win_micros, 0.9) / 1e6 AS min_to_win_p90,
       approx_percentile(bid_price_micros, 0.5) / 1e6 AS our_bid_p50,
       approx_percentile(min_to_win_micros - bid_price_micros, 0.5) / 1e6 AS shortfall_p50
FROM losses
GROUP BY 1, 2
ORDER BY losses_priced DESC;
