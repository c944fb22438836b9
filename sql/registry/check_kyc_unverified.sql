-- REG_KYC_UNVERIFIED: the carrier has not verified the subscriber's identity (kyc_verified = false).
INSERT INTO registry_check_hits
SELECT $run_date, $run_id, msisdn_int, carrier, $check_id, $legal_basis, 'kyc_verified = false'
FROM registry_on($run_date)
WHERE status <> 'terminated' AND NOT kyc_verified;
