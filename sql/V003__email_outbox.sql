-- The transactional email outbox: a row is written in the same transaction as the change that
-- causes the email, and dispatched after commit. The dedupe key is unique across the table, so
-- the same logical email can never be queued (and so never sent) twice, across retries,
-- restarts and instances.
SET LOCAL ROLE tf_owner;

CREATE TABLE email_outbox (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id       uuid REFERENCES accounts(id),
  template         text NOT NULL CHECK (template ~ '^[a-z][a-z0-9_]{1,63}$'),
  recipient        text NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
  locale           text NOT NULL DEFAULT 'en-GB',
  model            jsonb NOT NULL DEFAULT '{}'::jsonb,
  dedupe_key       text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 300),
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'suppressed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_until      timestamptz,
  last_error       text,
  smtp_response    text,
  provider_id      text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT email_outbox_dedupe_key UNIQUE (dedupe_key)
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX email_outbox_account_idx ON email_outbox (account_id, created_at DESC);
CREATE INDEX email_outbox_recipient_idx ON email_outbox (recipient, created_at DESC);

ALTER TABLE email_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_outbox FORCE ROW LEVEL SECURITY;
-- A request may queue email for its own account and see what it queued; never anyone else's.
CREATE POLICY email_outbox_own ON email_outbox TO tf_app
  USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))
  WITH CHECK (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
-- The dispatcher and cross-account writers (webhooks) work on every row.
CREATE POLICY email_outbox_worker ON email_outbox TO tf_worker USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON email_outbox TO tf_app;
GRANT SELECT, INSERT, UPDATE ON email_outbox TO tf_worker;
