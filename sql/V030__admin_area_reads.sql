-- The owners' admin area, read side (issue 18): the accounts list and search, one account in
-- detail, the audit log's reader, and the business figures (signups, statuses, MRR, churn).
--
-- These reads cross accounts. They run as tf_worker (Db.asWorker, behind the admin gate), which
-- gets no new table privileges: it may only call the SECURITY DEFINER functions below, each a
-- read (STABLE) that returns the columns the admin area shows and nothing else (no password
-- hashes, no token rows). RLS stays enabled and forced on every table; the functions read as
-- tf_owner through the *_definer policies, as session_state and audit_verify already do. tf_app,
-- the role requests run as, may call none of them.

-- Substring search (email, business name) uses trigram indexes. pg_trgm is a trusted extension:
-- the admin login needs CREATE on the database, not superuser. Created before the role switch,
-- as the migrating login.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

SET LOCAL ROLE tf_owner;

CREATE INDEX accounts_business_name_trgm_idx ON accounts USING gin (business_name gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
-- The list's order (newest first, keyset on created_at, id) and the signups per day.
CREATE INDEX accounts_created_idx ON accounts (created_at DESC, id DESC);
-- The figures count rows by status: from narrow indexes (index-only scans) rather than the tables.
CREATE INDEX accounts_status_idx ON accounts (status);

-- The audit reader's filters, each newest first (account_id already has audit_log_account_idx).
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id DESC) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at);

-- ---------------------------------------------------------------------------------------------
-- What each subscription charges, recorded by the webhook handler from the subscription it reads
-- back from Stripe (items' prices: amount per billing interval, summed over items; Stripe makes
-- every item of a subscription share one interval), so MRR is a sum over rows: no Stripe call
-- per request. monthly_pence is that amount per month (a year is 12 months, a week 52/12 of a
-- month's worth, a day 365/12), rounded to the penny.
ALTER TABLE billing_accounts
  ADD COLUMN price_id             text CHECK (length(price_id) <= 255),
  ADD COLUMN price_amount_pence   bigint CHECK (price_amount_pence >= 0),
  ADD COLUMN price_currency       text CHECK (price_currency ~ '^[a-z]{3}$'),
  ADD COLUMN price_interval       text CHECK (price_interval IN ('day', 'week', 'month', 'year')),
  ADD COLUMN price_interval_count integer CHECK (price_interval_count >= 1),
  ADD COLUMN monthly_pence        bigint GENERATED ALWAYS AS (
    CASE price_interval
      WHEN 'month' THEN round(price_amount_pence::numeric / price_interval_count)
      WHEN 'year'  THEN round(price_amount_pence::numeric / (12 * price_interval_count))
      WHEN 'week'  THEN round(price_amount_pence::numeric * 52 / (12 * price_interval_count))
      WHEN 'day'   THEN round(price_amount_pence::numeric * 365 / (12 * price_interval_count))
    END::bigint) STORED,
  -- Churn needs when a subscription started paying and when it was cancelled: set by the
  -- trigger below, whoever changes the status (webhooks, retention, an owner's action, by hand).
  ADD COLUMN paying_since         timestamptz,
  ADD COLUMN cancelled_at         timestamptz;
CREATE INDEX billing_accounts_subscription_status_idx ON billing_accounts (subscription_status)
  INCLUDE (price_currency, monthly_pence);
CREATE INDEX billing_accounts_paid_period_idx ON billing_accounts (cancelled_at, paying_since)
  WHERE paying_since IS NOT NULL OR cancelled_at IS NOT NULL;
GRANT UPDATE (price_id, price_amount_pence, price_currency, price_interval, price_interval_count)
  ON billing_accounts TO tf_worker;

-- Rows from before this migration: the last change is the best known time.
UPDATE billing_accounts SET paying_since = updated_at WHERE subscription_status IN ('active', 'past_due');
UPDATE billing_accounts SET cancelled_at = updated_at WHERE subscription_status = 'cancelled';

-- A paid period starts when the status first becomes active or past_due, or becomes so again
-- after a cancellation (a new subscription); it ends when the status becomes cancelled. A trial,
-- before or after, leaves both times alone: a resubscribed account's cancellation still counts in
-- the window it happened in.
CREATE FUNCTION billing_accounts_paid_period() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  BEGIN
    IF NEW.subscription_status IN ('active', 'past_due') THEN
      IF NEW.paying_since IS NULL OR NEW.cancelled_at IS NOT NULL THEN
        NEW.paying_since := now();
        NEW.cancelled_at := NULL;
      END IF;
    ELSIF NEW.subscription_status = 'cancelled'
          AND (TG_OP = 'INSERT' OR OLD.subscription_status IS DISTINCT FROM 'cancelled') THEN
      NEW.cancelled_at := now();
    END IF;
    RETURN NEW;
  END $$;
CREATE TRIGGER billing_accounts_paid_period BEFORE INSERT OR UPDATE OF subscription_status ON billing_accounts
  FOR EACH ROW EXECUTE FUNCTION billing_accounts_paid_period();

-- ---------------------------------------------------------------------------------------------
-- The accounts list: newest first, keyset-paged on (created_at, id). p_pattern is a LIKE
-- pattern (the caller escapes the search text and wraps it in %), matched case-insensitively
-- against the business name and every user's email, each through its trigram index; the matches
-- are found first and then ordered (walking the whole list in order and testing each account
-- against them read all 100,000 rows of the benchmark for a search that matched one). Without a
-- search the list walks accounts_created_idx. Each statement is run with EXECUTE, so it is
-- planned for the filters actually given.
CREATE FUNCTION admin_accounts_page(p_pattern text, p_subscription_status text, p_account_status text,
                                    p_before_created timestamptz, p_before_id uuid, p_limit integer)
  RETURNS TABLE (id uuid, business_name text, status text, created_at timestamptz, email text,
                 user_count bigint, subscription_status text, trial_end timestamptz, current_period_end timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  DECLARE
    v_columns constant text := $c$
      SELECT a.id, a.business_name, a.status, a.created_at,
             (SELECT u.email FROM users u WHERE u.account_id = a.id ORDER BY u.created_at, u.id LIMIT 1),
             (SELECT count(*) FROM users u WHERE u.account_id = a.id),
             coalesce(b.subscription_status, 'none'), b.trial_end, b.current_period_end
    $c$;
    v_filters constant text := $f$
       WHERE (a.created_at, a.id) < ($4, $5)
         AND ($2::text IS NULL OR coalesce(b.subscription_status, 'none') = $2)
         AND ($3::text IS NULL OR a.status = $3)
       ORDER BY a.created_at DESC, a.id DESC
       LIMIT least($6, 101)
    $f$;
  BEGIN
    IF p_pattern IS NULL THEN
      RETURN QUERY EXECUTE v_columns || $q$
        FROM accounts a
        LEFT JOIN billing_accounts b ON b.account_id = a.id
      $q$ || v_filters
      USING p_pattern, p_subscription_status, p_account_status, p_before_created, p_before_id, p_limit;
    ELSE
      RETURN QUERY EXECUTE $q$
        WITH matched AS MATERIALIZED (
          SELECT m.id FROM accounts m WHERE m.business_name ILIKE $1
          UNION
          SELECT u.account_id FROM users u WHERE u.email LIKE lower($1)
        )
      $q$ || v_columns || $q$
        FROM matched
        JOIN accounts a ON a.id = matched.id
        LEFT JOIN billing_accounts b ON b.account_id = a.id
      $q$ || v_filters
      USING p_pattern, p_subscription_status, p_account_status, p_before_created, p_before_id, p_limit;
    END IF;
  END $$;

-- One account with its billing row (NULL columns when it has none); no row for an unknown id.
CREATE FUNCTION admin_account(p_account uuid)
  RETURNS TABLE (id uuid, business_name text, status text, created_at timestamptz, closed_at timestamptz,
                 delete_after timestamptz, purged_at timestamptz, subscription_status text, stripe_status text,
                 trial_end timestamptz, current_period_end timestamptz, cancel_at_period_end boolean,
                 stripe_customer_id text, subscription_id text, connect_account_id text, price_id text,
                 price_amount_pence bigint, price_currency text, price_interval text, price_interval_count integer,
                 monthly_pence bigint, paying_since timestamptz, cancelled_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT a.id, a.business_name, a.status, a.created_at, a.closed_at, a.delete_after, a.purged_at,
           coalesce(b.subscription_status, 'none'), b.stripe_status, b.trial_end, b.current_period_end,
           coalesce(b.cancel_at_period_end, false), b.stripe_customer_id, b.subscription_id, b.connect_account_id,
           b.price_id, b.price_amount_pence, b.price_currency, b.price_interval, b.price_interval_count,
           b.monthly_pence, b.paying_since, b.cancelled_at
      FROM accounts a
      LEFT JOIN billing_accounts b ON b.account_id = a.id
     WHERE a.id = p_account
  $$;

-- The account's users, oldest first; a sign-in is a session the user opened (one opened by
-- impersonation is not theirs).
CREATE FUNCTION admin_account_users(p_account uuid)
  RETURNS TABLE (id uuid, email text, email_verified_at timestamptz, created_at timestamptz,
                 last_sign_in_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT u.id, u.email, u.email_verified_at, u.created_at,
           (SELECT max(s.created_at) FROM sessions s
             WHERE s.account_id = u.account_id AND s.user_id = u.id AND s.impersonator_id IS NULL)
      FROM users u
     WHERE u.account_id = p_account
     ORDER BY u.created_at, u.id
  $$;

-- The audit log, newest first (by id, the order entries were written in), keyset-paged on id,
-- each filter optional. Run with EXECUTE so the plan fits the filters given (an account's,
-- an action's or an actor's index, or the time index).
CREATE FUNCTION admin_audit_page(p_account uuid, p_action text, p_actor uuid, p_from timestamptz,
                                 p_to timestamptz, p_before_id bigint, p_limit integer)
  RETURNS TABLE (id bigint, occurred_at timestamptz, account_id uuid, actor_type text, actor_id uuid,
                 impersonator_id uuid, action text, target_type text, target_id text, ip text,
                 user_agent text, details jsonb, prev_hash text, hash text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY EXECUTE $q$
      SELECT a.id, a.occurred_at, a.account_id, a.actor_type, a.actor_id, a.impersonator_id, a.action,
             a.target_type, a.target_id, host(a.ip), a.user_agent, a.details, a.prev_hash, a.hash
        FROM audit_log a
       WHERE a.id < $6
         AND ($1::uuid IS NULL OR a.account_id = $1)
         AND ($2::text IS NULL OR a.action = $2)
         AND ($3::uuid IS NULL OR a.actor_id = $3)
         AND ($4::timestamptz IS NULL OR a.occurred_at >= $4)
         AND ($5::timestamptz IS NULL OR a.occurred_at < $5)
       ORDER BY a.id DESC
       LIMIT least($7, 101)
    $q$ USING p_account, p_action, p_actor, p_from, p_to, p_before_id, p_limit;
  END $$;

-- ---------------------------------------------------------------------------------------------
-- Business figures. Days are UTC days; the window is the last p_days days, today included.

-- Signups (accounts created) per day, every day of the window present (zero-filled).
CREATE FUNCTION admin_signups_per_day(p_days integer)
  RETURNS TABLE (day date, signups bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    WITH bounds AS (
      SELECT (now() AT TIME ZONE 'UTC')::date - (p_days - 1) AS first_day
    ), counted AS (
      SELECT (a.created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n
        FROM accounts a, bounds
       WHERE a.created_at >= (bounds.first_day::timestamp AT TIME ZONE 'UTC')
       GROUP BY 1
    )
    SELECT d::date, coalesce(c.n, 0)
      FROM bounds, generate_series(bounds.first_day, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d
      LEFT JOIN counted c ON c.day = d::date
     ORDER BY 1
  $$;

-- Accounts by status, and by subscription status (an account without a billing row, or whose
-- row never subscribed, is 'none'). kind is 'account' or 'subscription'.
CREATE FUNCTION admin_status_counts()
  RETURNS TABLE (kind text, status text, n bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT 'account', a.status, count(*) FROM accounts a GROUP BY a.status
    UNION ALL
    SELECT 'subscription', b.subscription_status, count(*) FROM billing_accounts b
     WHERE b.subscription_status <> 'none' GROUP BY b.subscription_status
  $$;

-- Monthly recurring revenue per currency: the monthly amounts of the subscriptions being paid
-- for (active, and past_due: billed, payment being retried). Trials pay nothing yet.
CREATE FUNCTION admin_mrr()
  RETURNS TABLE (currency text, mrr_pence bigint, subscriptions bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT upper(b.price_currency), sum(b.monthly_pence)::bigint, count(*)
      FROM billing_accounts b
     WHERE b.subscription_status IN ('active', 'past_due') AND b.monthly_pence IS NOT NULL
     GROUP BY 1
  $$;

-- Churn over the window: of the subscriptions paying at its start, how many were cancelled
-- within it; and every cancellation in the window (trials included), for reference.
CREATE FUNCTION admin_churn(p_days integer)
  RETURNS TABLE (paying_at_start bigint, churned bigint, cancellations bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT count(*) FILTER (WHERE b.paying_since < w.start AND (b.cancelled_at IS NULL OR b.cancelled_at >= w.start)),
           count(*) FILTER (WHERE b.paying_since < w.start AND b.cancelled_at >= w.start),
           count(*) FILTER (WHERE b.cancelled_at >= w.start)
      FROM billing_accounts b, (SELECT now() - make_interval(days => p_days) AS start) w
     WHERE b.paying_since IS NOT NULL OR b.cancelled_at IS NOT NULL
  $$;

GRANT EXECUTE ON FUNCTION admin_accounts_page(text, text, text, timestamptz, uuid, integer),
                          admin_account(uuid),
                          admin_account_users(uuid),
                          admin_audit_page(uuid, text, uuid, timestamptz, timestamptz, bigint, integer),
                          admin_signups_per_day(integer),
                          admin_status_counts(),
                          admin_mrr(),
                          admin_churn(integer)
  TO tf_worker;
