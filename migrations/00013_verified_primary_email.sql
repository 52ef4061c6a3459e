-- Only a verified address is a person's email. Until now the primary email
-- was stored as the identity provider named it, verified or not, so a user
-- could claim someone else's address and be found by it (and be given that
-- person's role). The emails array holds the verified addresses (and, for a
-- person who has not signed in yet, the address their checkout gave); from
-- now on the primary must be one of them. A stored primary that is not is
-- cleared: the next identity update sets it again once it is verified.

-- +goose Up
UPDATE people SET primary_email = NULL, updated_at = now()
WHERE primary_email IS NOT NULL AND NOT (emails @> ARRAY[primary_email]);
ALTER TABLE people ADD CONSTRAINT people_primary_email_verified
    CHECK (primary_email IS NULL OR emails @> ARRAY[primary_email]);

-- +goose Down
ALTER TABLE people DROP CONSTRAINT people_primary_email_verified;
