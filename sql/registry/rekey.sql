-- Recompute every person_ref under the current key (HMAC-SHA-256 from $hmac_ipad/$hmac_opad) and remember
-- the key's fingerprint. Runs only when the key changed, so old and new pseudonyms never mix.
UPDATE registry_subscribers
SET person_ref = CASE WHEN id_key(id_number) IS NOT NULL
                      THEN sha256($hmac_opad || unhex(sha256($hmac_ipad || encode(id_key(id_number))))) END;

DELETE FROM registry_key_fingerprint;

INSERT INTO registry_key_fingerprint VALUES ($fingerprint);
