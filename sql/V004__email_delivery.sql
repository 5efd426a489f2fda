-- Email delivery: the provider's downstream events, the suppression list, webhook dedupe, and
-- failure-rate alert episodes. Dispatch and webhooks cross accounts, so they run as tf_worker;
-- a request sees only its own account's email events.
SET LOCAL ROLE tf_owner;

CREATE TABLE email_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id   uuid NOT NULL REFERENCES email_outbox(id),
  account_id   uuid,
  type         text NOT NULL CHECK (type IN ('sent', 'delivered', 'delivery_delayed', 'opened', 'clicked',
                                             'bounced', 'complained', 'unsubscribed', 'failed')),
  occurred_at  timestamptz NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  webhook_id   text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX email_events_message_idx ON email_events (message_id, occurred_at);
CREATE INDEX email_events_type_time_idx ON email_events (type, received_at);
CREATE INDEX email_events_account_idx ON email_events (account_id, received_at DESC);
ALTER TABLE email_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_events FORCE ROW LEVEL SECURITY;
CREATE POLICY email_events_own ON email_events FOR SELECT TO tf_app
  USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
CREATE POLICY email_events_worker ON email_events TO tf_worker USING (true) WITH CHECK (true);
GRANT SELECT ON email_events TO tf_app;
GRANT SELECT, INSERT ON email_events TO tf_worker;

-- A provider redelivers a webhook under the same id; the first receipt wins.
CREATE TABLE email_webhook_receipts (
  webhook_id   text PRIMARY KEY CHECK (length(webhook_id) BETWEEN 1 AND 200),
  received_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON email_webhook_receipts TO tf_worker;

-- Addresses we must not write to again. Keyed by address alone: a complaint about one
-- account's email stops every account's email to that person.
CREATE TABLE email_suppressions (
  address     text PRIMARY KEY CHECK (address = lower(btrim(address))),
  reason      text NOT NULL CHECK (reason IN ('bounced', 'complained', 'unsubscribed', 'manual')),
  source      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON email_suppressions TO tf_worker;

-- One row per alert episode; at most one open at a time, so instances cannot double-raise.
CREATE TABLE email_alerts (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  raised_at       timestamptz NOT NULL DEFAULT now(),
  cleared_at      timestamptz,
  failure_rate    double precision NOT NULL,
  window_seconds  integer NOT NULL
);
CREATE UNIQUE INDEX email_alerts_one_open ON email_alerts ((true)) WHERE cleared_at IS NULL;
GRANT SELECT, INSERT, UPDATE (cleared_at) ON email_alerts TO tf_worker;

CREATE INDEX email_outbox_status_updated_idx ON email_outbox (status, updated_at);
