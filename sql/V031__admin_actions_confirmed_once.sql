-- Owners' sensitive actions (issue 18) happen in two steps: a request stores the action as
-- pending, with the SHA-256 of a 256-bit confirmation token (never the token) bound to the staff
-- member who asked, expiring after five minutes; a confirmation performs it once. One UPDATE
-- (pending -> performing, same requester, same token, not expired) decides which confirmation
-- performs: two at once cannot both win, and a spent, expired or foreign token changes nothing.
--
-- Admin work crosses accounts, so it runs as tf_worker (Db.asWorker), which may insert and move
-- an action along and read it back, nothing more: no DELETE, and neither the token hash, the
-- action, its account, its parameters, its requester nor its deadline can change once stored.
-- The runtime role tf_app has no access at all.
SET LOCAL ROLE tf_owner;

CREATE TABLE admin_actions (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  action        text NOT NULL
                CHECK (action IN ('signin_link', 'refund', 'suspend', 'reinstate', 'extend_trial', 'export_report')),
  -- No foreign key: retention purges closed accounts, and the record of what was done to one outlives it.
  account_id    uuid CHECK (account_id IS NOT NULL OR action = 'export_report'),
  params        jsonb NOT NULL DEFAULT '{}'::jsonb,
  requested_by  uuid NOT NULL,
  token_hash    bytea NOT NULL CHECK (length(token_hash) = 32),
  expires_at    timestamptz NOT NULL DEFAULT now() + interval '5 minutes',
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'performing', 'done', 'failed', 'expired')),
  result        jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- The expiry sweep looks only at pending actions.
CREATE INDEX admin_actions_pending_idx ON admin_actions (expires_at) WHERE status = 'pending';

ALTER TABLE admin_actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_actions FORCE ROW LEVEL SECURITY;
CREATE POLICY admin_actions_worker ON admin_actions TO tf_worker USING (true) WITH CHECK (true);
GRANT SELECT, INSERT (action, account_id, params, requested_by, token_hash) ON admin_actions TO tf_worker;
GRANT UPDATE (status, result, updated_at) ON admin_actions TO tf_worker;
