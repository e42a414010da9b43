-- Why bids lost, by campaign and exchange, last 7 days: loss notices by reason
-- (OpenRTB 2.6 list 5.25), once per impression, with each reason's share of the
-- campaign's loss notices on that exchange. 'unknown': the exchange sent no
-- reason that reads as a code (the macro unsubstituted or removed, garbage).
WITH notices AS (
  SELECT DISTINCT campaign_id, coalesce(exchange, '') AS exchange, request_id, imp_id, loss_reason
  FROM events
  WHERE dt >= CAST(current_date - INTERVAL '7' DAY AS varchar) AND type = 'loss'
)
SELECT campaign_id,
       exchange,
       loss_reason,
       CASE
         WHEN loss_reason IS NULL THEN 'unknown'
         WHEN loss_reason = 0 THEN 'bid won'
         WHEN loss_reason = 1 THEN 'internal error'
         WHEN loss_reason = 2 THEN 'impression opportunity expired'
         WHEN loss_reason = 3 THEN 'invalid bid response'
         WHEN loss_reason = 4 THEN 'invalid deal id'
         WHEN loss_reason = 5 THEN 'invalid auction id'
         WHEN loss_reason = 6 THEN 'invalid advertiser domain'
         WHEN loss_reason = 7 THEN 'missing markup'
         WHEN loss_reason = 8 THEN 'missing creative id'
         WHEN loss_reason = 9 THEN 'missing bid price'
         WHEN loss_reason = 10 THEN 'missing minimum creative approval data'
         WHEN loss_reason = 100 THEN 'below auction floor'
         WHEN loss_reason = 101 THEN 'below deal floor'
         WHEN loss_reason = 102 THEN 'lost to higher bid'
         WHEN loss_reason = 103 THEN 'lost to a bid for a deal'
         WHEN loss_reason = 104 THEN 'buyer seat blocked'
         WHEN loss_reason = 200 THEN 'creative filtered: general'
         WHEN loss_reason = 201 THEN 'creative filtered: pending processing'
         WHEN loss_reason = 202 THEN 'creative filtered: disapproved by exchange'
         WHEN loss_reason = 203 THEN 'creative filtered: size not allowed'
         WHEN loss_reason = 204 THEN 'creative filtered: incorrect creative format'
         WHEN loss_reason = 205 THEN 'creative filtered: advertiser exclusions'
         WHEN loss_reason = 206 THEN 'creative filtered: app store id exclusions'
         WHEN loss_reason = 207 THEN 'creative filtered: not secure'
         WHEN loss_reason = 208 THEN 'creative filtered: language exclusions'
         WHEN loss_reason = 209 THEN 'creative filtered: category exclusions'
         WHEN loss_reason = 210 THEN 'creative filtered: creative attribute exclusions'
         WHEN loss_reason = 211 THEN 'creative filtered: ad type exclusions'
         WHEN loss_reason = 212 THEN 'creative filtered: animation too long'
         WHEN loss_reason = 213 THEN 'creative filtered: not allowed in deal'
         WHEN loss_reason = 214 THEN 'creative filtered: invalid skadnetwork'
         WHEN loss_reason = 215 THEN 'creative filtered: app bundle exclusions'
         WHEN loss_reason >= 500 THEN 'exchange-specific'
         ELSE 'not in the list'
       END AS reason,
       count(*) AS notices,
       round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY campaign_id, exchange), 1) AS share_pct
FROM notices
GROUP BY campaign_id, exchange, loss_reason
ORDER BY campaign_id, exchange, notices DESC;
