-- The fingerprint of the key the stored pseudonyms were made with (no row before the first snapshot).
SELECT fingerprint FROM registry_key_fingerprint;
