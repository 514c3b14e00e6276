CREATE TABLE policy_subsidy_levels (
    id BIGSERIAL PRIMARY KEY,
    policy_id BIGINT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    UNIQUE (policy_id, level)
);

INSERT INTO policy_subsidy_levels (policy_id, level, amount_fen)
SELECT policy_id, level, amount_fen FROM (
    SELECT id AS policy_id, 1 AS rank, 'central' AS level, subsidy_central_fen AS amount_fen
    FROM policies WHERE subsidy_central_fen IS NOT NULL
    UNION ALL
    SELECT id, 2, 'provincial', subsidy_provincial_fen
    FROM policies WHERE subsidy_provincial_fen IS NOT NULL
    UNION ALL
    SELECT id, 3, 'city', subsidy_city_fen
    FROM policies WHERE subsidy_city_fen IS NOT NULL
    UNION ALL
    SELECT id, 4, 'county', subsidy_county_fen
    FROM policies WHERE subsidy_county_fen IS NOT NULL
) AS levels
ORDER BY policy_id, rank;

DROP INDEX policies_finance;
CREATE INDEX policies_finance ON policies
    (scheme_id, township_id, id, insured_area_units, premium_fen, grower_share_fen, subsidy_fen, status)
    WHERE status IN ('issued', 'expired');

ALTER TABLE policies DROP COLUMN subsidy_central_fen;
ALTER TABLE policies DROP COLUMN subsidy_provincial_fen;
ALTER TABLE policies DROP COLUMN subsidy_city_fen;
ALTER TABLE policies DROP COLUMN subsidy_county_fen;
