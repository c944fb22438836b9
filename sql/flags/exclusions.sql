-- Exclusions beat rules. The first that applies is recorded on every hit of the subscriber:
--   protected        a protected number or range (config/protected.toml), table protected_numbers
--   allowlist        a verified enterprise number (allowlist file), table allowlist_numbers
--   already_blocked  two-way blocked or terminated in the registry, or last decision two_way_blocked
--   cleared_cooldown cleared by a decision within the cooldown, with no new reporter since
-- An authority's suspension request is not stopped by a cooldown or allowlist: it is a legal order.
UPDATE rule_hits h
SET excluded_by = x.excluded_by
FROM (
    SELECT s.msisdn_int,
           CASE
               WHEN s.msisdn_int IN (SELECT msisdn_int FROM protected_numbers) THEN 'protected'
               WHEN s.registry_status IN ('two_way_blocked', 'terminated')
                    OR s.last_decision = 'two_way_blocked' THEN 'already_blocked'
               WHEN s.suspend_requested THEN NULL
               WHEN s.msisdn_int IN (SELECT msisdn_int FROM allowlist_numbers) THEN 'allowlist'
               WHEN s.cleared_in_cooldown AND s.new_reporters_since_decision = 0 THEN 'cleared_cooldown'
           END AS excluded_by
    FROM signals_today s
) x
WHERE h.run_date = $run_date AND h.msisdn_int = x.msisdn_int AND x.excluded_by IS NOT NULL;
