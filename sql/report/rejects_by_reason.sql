SELECT reason, count(*) AS rows FROM rejects GROUP BY reason ORDER BY rows DESC, reason;
