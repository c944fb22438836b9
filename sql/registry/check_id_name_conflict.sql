-- REG_ID_NAME_CONFLICT: one ID number registered under different names on the same network. Names compare
-- without case, tone marks or spacing (name_key), so 'NGUYEN VAN AN' and 'Nguyễn Văn An' agree. Every
-- number on such a document is flagged: the registry cannot tell which name is the holder's.
INSERT INTO registry_check_hits
WITH subjects AS (
    SELECT carrier, msisdn_int, id_key(id_number) AS id_doc, name_key(full_name) AS who
    FROM registry_on($run_date)
    WHERE status <> 'terminated' AND id_key(id_number) IS NOT NULL
),
per_document AS (
    SELECT carrier, id_doc, count(DISTINCT who) AS names, count(*) AS numbers
    FROM subjects
    GROUP BY carrier, id_doc
    HAVING count(DISTINCT who) > 1
)
SELECT $run_date, $run_id, s.msisdn_int, s.carrier, $check_id, $legal_basis,
       format('ID number registered under {} different names on this network ({} numbers)', p.names, p.numbers)
FROM subjects s
JOIN per_document p USING (carrier, id_doc);
