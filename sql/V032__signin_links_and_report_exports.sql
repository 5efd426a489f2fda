-- Issue 18, the admin area's one-time links: staff sign-in links (impersonation) and CSV report
-- downloads. Both hold only the SHA-256 of a 256-bit token; the token itself exists only in the
-- URL handed to the staff member. No foreign keys: the retention purge deletes an account's users
-- and sessions without knowing these tables, and a spent or expired row names nothing usable.
SET LOCAL ROLE tf_owner;

-- A sign-in link an owner or support issued for an account's first user. Written and spent in the
-- account's own RLS transaction (the request scopes itself to the target account, as any sign-in
-- does); found by its token's hash before the account is known, through signin_link_account.
CREATE TABLE signin_links (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id   uuid NOT NULL,
  user_id      uuid NOT NULL,
  action_id    uuid NOT NULL,
  staff_id     uuid NOT NULL,
  staff_role   text NOT NULL CHECK (staff_role IN ('owner', 'support')),
  token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  session_id   uuid
);
CREATE INDEX signin_links_account_idx ON signin_links (account_id, created_at DESC);
ALTER TABLE signin_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE signin_links FORCE ROW LEVEL SECURITY;
CREATE POLICY signin_links_own ON signin_links TO tf_app
  USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))
  WITH CHECK (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid));
CREATE POLICY signin_links_definer ON signin_links TO tf_owner USING (true);
GRANT SELECT, INSERT, UPDATE (used_at, session_id) ON signin_links TO tf_app;

-- The account a sign-in link's token belongs to, whatever its state: whether it may still be used
-- is decided by the spending UPDATE in that account's transaction.
CREATE FUNCTION signin_link_account(p_hash bytea) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT account_id FROM signin_links WHERE token_hash = p_hash $$;
GRANT EXECUTE ON FUNCTION signin_link_account(bytea) TO tf_app;

-- A prepared CSV download, bound to the owner who confirmed the export. Not account data, but no
-- runtime grant on the table either: it is created, checked and spent only through the functions below.
CREATE TABLE report_exports (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  action_id    uuid NOT NULL,
  report       text NOT NULL CHECK (report IN ('accounts', 'subscriptions', 'emails', 'audit')),
  owner_id     uuid NOT NULL,
  token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz
);
ALTER TABLE report_exports ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_exports FORCE ROW LEVEL SECURITY;
CREATE POLICY report_exports_definer ON report_exports TO tf_owner USING (true) WITH CHECK (true);

CREATE FUNCTION report_export_create(p_action uuid, p_report text, p_owner uuid, p_hash bytea, p_seconds integer)
  RETURNS TABLE (id uuid, expires_at timestamptz)
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    INSERT INTO report_exports (action_id, report, owner_id, token_hash, expires_at)
    VALUES (p_action, p_report, p_owner, p_hash, now() + p_seconds * interval '1 second')
    RETURNING id, expires_at
  $$;

-- Spends a download: the report's name once, for its owner with its token before it expires;
-- no row for anything else (wrong owner, wrong token, spent, expired, unknown).
CREATE FUNCTION report_export_claim(p_id uuid, p_owner uuid, p_hash bytea) RETURNS TABLE (report text)
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    UPDATE report_exports SET used_at = now()
     WHERE id = p_id AND owner_id = p_owner AND token_hash = p_hash AND used_at IS NULL AND expires_at > now()
    RETURNING report
  $$;
-- Whether a download would be served, spending nothing (HEAD asks this).
CREATE FUNCTION report_export_usable(p_id uuid, p_owner uuid, p_hash bytea) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT EXISTS (SELECT 1 FROM report_exports
                    WHERE id = p_id AND owner_id = p_owner AND token_hash = p_hash
                      AND used_at IS NULL AND expires_at > now())
  $$;
-- Prepared and spent by the worker role, in the transaction that writes their (account-less) audit entry.
GRANT EXECUTE ON FUNCTION report_export_create(uuid, text, uuid, bytea, integer),
                          report_export_claim(uuid, uuid, bytea) TO tf_worker;
GRANT EXECUTE ON FUNCTION report_export_usable(uuid, uuid, bytea) TO tf_app;

-- The reports, one keyset page at a time (never the whole table in one statement), each row as
-- its key (the next page starts after it) and its cells as text. Cross-account reads for the
-- owners' exports only: the server calls them behind the owner gate and a spent download token.
-- Times are ISO-8601 UTC with milliseconds.
CREATE FUNCTION report_time(t timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

CREATE FUNCTION report_accounts_page(p_after uuid, p_limit integer) RETURNS TABLE (k text, cells text[])
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT a.id::text,
           ARRAY[a.id::text, a.business_name, a.status,
                 (SELECT u.email FROM users u WHERE u.account_id = a.id ORDER BY u.created_at, u.id LIMIT 1),
                 coalesce(b.subscription_status, 'none'), report_time(a.created_at), report_time(a.closed_at)]
      FROM accounts a LEFT JOIN billing_accounts b ON b.account_id = a.id
     WHERE p_after IS NULL OR a.id > p_after
     ORDER BY a.id
     LIMIT p_limit
  $$;

CREATE FUNCTION report_subscriptions_page(p_after uuid, p_limit integer) RETURNS TABLE (k text, cells text[])
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT b.account_id::text,
           ARRAY[b.account_id::text, a.business_name, b.subscription_status, b.stripe_status,
                 report_time(b.trial_end), report_time(b.current_period_end), b.cancel_at_period_end::text,
                 b.stripe_customer_id, b.subscription_id, report_time(b.updated_at)]
      FROM billing_accounts b JOIN accounts a ON a.id = b.account_id
     WHERE p_after IS NULL OR b.account_id > p_after
     ORDER BY b.account_id
     LIMIT p_limit
  $$;

CREATE FUNCTION report_emails_page(p_after uuid, p_limit integer) RETURNS TABLE (k text, cells text[])
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT e.id::text,
           ARRAY[e.id::text, e.account_id::text, e.template, e.recipient, e.status, e.attempts::text,
                 report_time(e.created_at), report_time(e.sent_at), e.last_error]
      FROM email_outbox e
     WHERE p_after IS NULL OR e.id > p_after
     ORDER BY e.id
     LIMIT p_limit
  $$;

-- Up to p_last (the newest entry when the export began), so a download ends where it started.
CREATE FUNCTION report_audit_page(p_after bigint, p_last bigint, p_limit integer) RETURNS TABLE (k text, cells text[])
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT l.id::text,
           ARRAY[l.id::text, report_time(l.occurred_at), l.account_id::text, l.actor_type, l.actor_id::text,
                 l.impersonator_id::text, l.action, l.target_type, l.target_id, host(l.ip), l.user_agent,
                 l.details::text, l.prev_hash, l.hash]
      FROM audit_log l
     WHERE l.id > p_after AND l.id <= p_last
     ORDER BY l.id
     LIMIT p_limit
  $$;

CREATE FUNCTION report_audit_last() RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT coalesce(max(id), 0) FROM audit_log $$;

GRANT EXECUTE ON FUNCTION report_accounts_page(uuid, integer), report_subscriptions_page(uuid, integer),
                          report_emails_page(uuid, integer), report_audit_page(bigint, bigint, integer),
                          report_audit_last() TO tf_app;
