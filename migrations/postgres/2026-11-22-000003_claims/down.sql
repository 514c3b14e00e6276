DROP TABLE claim_payments;
DROP TABLE claim_photos;
DROP TABLE claim_surveys;
DROP TABLE claims;
DROP TABLE claim_events;
DROP FUNCTION claims_refuse_change();
