-- Funding levels are a fixed set (中央, 省, 市, 县): a policy keeps each
-- level's part of its subsidy in its own column, NULL where the scheme does
-- not fund that level, instead of a row per level in policy_subsidy_levels.
ALTER TABLE policies
    ADD COLUMN subsidy_central_fen BIGINT,
    ADD COLUMN subsidy_provincial_fen BIGINT,
    ADD COLUMN subsidy_city_fen BIGINT,
    ADD COLUMN subsidy_county_fen BIGINT;

UPDATE policies SET
    subsidy_central_fen = l.central,
    subsidy_provincial_fen = l.provincial,
    subsidy_city_fen = l.city,
    subsidy_county_fen = l.county
FROM (
    SELECT policy_id,
           MAX(amount_fen) FILTER (WHERE level = 'central') AS central,
           MAX(amount_fen) FILTER (WHERE level = 'provincial') AS provincial,
           MAX(amount_fen) FILTER (WHERE level = 'city') AS city,
           MAX(amount_fen) FILTER (WHERE level = 'county') AS county
    FROM policy_subsidy_levels
    GROUP BY policy_id
) AS l
WHERE l.policy_id = policies.id;

DROP TABLE policy_subsidy_levels;

-- The subsidy statement sums a scheme's policies per township, levels
-- included, from this covering index alone: in township order, no sort, and
-- the table is not read (see benches/subsidy.rs).
DROP INDEX policies_finance;
CREATE INDEX policies_finance ON policies
    (scheme_id, township_id, insured_area_units, premium_fen, grower_share_fen, subsidy_fen,
     subsidy_central_fen, subsidy_provincial_fen, subsidy_city_fen, subsidy_county_fen, status)
    WHERE status IN ('issued', 'expired');
