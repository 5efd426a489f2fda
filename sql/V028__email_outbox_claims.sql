-- Each claim of an outbox row gets its own number. Until now `attempts` was bumped by every claim
-- and doubled as the claim's identity, so an SMTP outage spent a message's attempts just by the
-- dispatcher trying: 15 minutes of "connection refused" failed every queued email for good. Now
-- only a failure of that message (a permanent SMTP rejection) or a send counts in `attempts`, and
-- every outcome names the claim (`claims`) it belongs to, so a dispatcher whose lease ran out and
-- whose row was claimed again cannot overwrite the newer claim's state.
ALTER TABLE email_outbox ADD COLUMN claims integer NOT NULL DEFAULT 0;
UPDATE email_outbox SET claims = attempts WHERE claims <> attempts;
