-- Connection slots held across replicas: a provider that limits
-- simultaneous connections (Mailchimp: 10 per account) gets one row per
-- slot, and a call holds a slot (holder, until expires_at) while it is in
-- flight. A replica that dies holding a slot frees it when the lease
-- expires. UNLOGGED: after a crash every slot is free again, which is true.

-- +goose Up
CREATE UNLOGGED TABLE provider_leases (
    provider   text NOT NULL,
    slot       integer NOT NULL CHECK (slot > 0),
    holder     text,
    expires_at timestamptz,
    PRIMARY KEY (provider, slot),
    CHECK ((holder IS NULL) = (expires_at IS NULL))
);

-- +goose Down
DROP TABLE provider_leases;
