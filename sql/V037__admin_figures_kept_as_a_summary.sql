-- The admin area's business figures as a summary (issue 20: the Analytics page at p99 < 200 ms
-- with 100,000 accounts). V030's four functions are right but each counts every account or
-- subscription (index-only scans of 50,000 to 100,000 entries: 300 to 450 ms together on a busy
-- host), so the page no longer runs them per request. A background job (every instance runs it;
-- an advisory lock and the summary's age let one of them work) stores their answers here, and the
-- page reads that one row. The summary is never served older than the age the caller states:
-- past it (no job has run yet, or none could), the figures are computed on the spot, as before.
-- Every instance reads the same row, so no figure depends on which instance answers.

SET LOCAL ROLE tf_owner;

CREATE TABLE admin_figures_summary (
  window_days   integer PRIMARY KEY CHECK (window_days BETWEEN 1 AND 366),
  computed_at   timestamptz NOT NULL,
  signups       jsonb NOT NULL,  -- admin_signups_per_day's rows: [{day, signups}], oldest first
  status_counts jsonb NOT NULL,  -- admin_status_counts's rows: [{kind, status, n}]
  mrr           jsonb NOT NULL,  -- admin_mrr's rows: [{currency, mrr_pence, subscriptions}]
  churn         jsonb NOT NULL   -- admin_churn's row: {paying_at_start, churned, cancellations}
);
ALTER TABLE admin_figures_summary ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_figures_summary FORCE ROW LEVEL SECURITY;
CREATE POLICY admin_figures_summary_definer ON admin_figures_summary TO tf_owner USING (true) WITH CHECK (true);

-- The figures now, from the tables, in the summary's shape (one snapshot: a STABLE function's
-- statements share their caller's). Called only by the two functions below.
CREATE FUNCTION admin_figures_now(p_days integer)
  RETURNS TABLE (computed_at timestamptz, signups jsonb, status_counts jsonb, mrr jsonb, churn jsonb)
  LANGUAGE sql STABLE SET search_path = public, pg_temp
  AS $$
    SELECT now(),
           (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.day), '[]') FROM admin_signups_per_day(p_days) s),
           (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]') FROM admin_status_counts() c),
           (SELECT coalesce(jsonb_agg(to_jsonb(m)), '[]') FROM admin_mrr() m),
           (SELECT to_jsonb(c) FROM admin_churn(p_days) c)
  $$;

-- The figures over the last p_days days: the summary when it is at most p_max_age_seconds old,
-- otherwise computed now. computed_at says which moment they describe.
CREATE FUNCTION admin_figures(p_days integer, p_max_age_seconds integer)
  RETURNS TABLE (computed_at timestamptz, signups jsonb, status_counts jsonb, mrr jsonb, churn jsonb)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY
      SELECT f.computed_at, f.signups, f.status_counts, f.mrr, f.churn
        FROM admin_figures_summary f
       WHERE f.window_days = p_days AND f.computed_at >= now() - make_interval(secs => p_max_age_seconds);
    IF NOT FOUND THEN
      RETURN QUERY SELECT * FROM admin_figures_now(p_days);
    END IF;
  END $$;

-- Stores the figures now, unless another session is storing them (advisory lock) or the summary
-- is younger than p_fresh_seconds (another instance's job has just done it). Answers whether it
-- stored them. A background job's count: no parallel workers, which would take every core from
-- the requests for its duration.
CREATE FUNCTION admin_refresh_figures(p_days integer, p_fresh_seconds integer)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp SET max_parallel_workers_per_gather = 0
  AS $$
  BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('tradersflow.admin_figures')) THEN
      RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM admin_figures_summary f
                WHERE f.window_days = p_days AND f.computed_at > now() - make_interval(secs => p_fresh_seconds)) THEN
      RETURN false;
    END IF;
    INSERT INTO admin_figures_summary AS f (window_days, computed_at, signups, status_counts, mrr, churn)
    SELECT p_days, n.computed_at, n.signups, n.status_counts, n.mrr, n.churn FROM admin_figures_now(p_days) n
    ON CONFLICT (window_days) DO UPDATE
      SET computed_at = EXCLUDED.computed_at, signups = EXCLUDED.signups, status_counts = EXCLUDED.status_counts,
          mrr = EXCLUDED.mrr, churn = EXCLUDED.churn;
    RETURN true;
  END $$;

GRANT EXECUTE ON FUNCTION admin_figures(integer, integer), admin_refresh_figures(integer, integer) TO tf_worker;
