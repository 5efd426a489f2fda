-- The cross-account jobs (email dispatch, webhook effects, retention, sweepers) ran as tf_app
-- with SET LOCAL ROLE tf_worker. Membership let any tf_app session do the same: one injected or
-- mistaken statement ("SET ROLE tf_worker") would lift it out of its account and into every
-- account's outbox, billing rows and Stripe payloads. tf_worker now logs in itself, through a
-- pool of its own (TF_DB_WORKER_URL), and tf_app is no longer its member, so no statement a
-- request runs can become the worker.
--
-- Its password is set at start-up from that URL, as tf_app's is from TF_DB_URL.
ALTER ROLE tf_worker LOGIN;

DO $$
DECLARE
  v_grantor name;
BEGIN
  IF current_setting('server_version_num')::int < 160000 THEN
    IF pg_has_role('tf_app', 'tf_worker', 'MEMBER') THEN
      REVOKE tf_worker FROM tf_app;
    END IF;
  ELSE
    -- From 16 on there may be one membership per grantor; each must go.
    FOR v_grantor IN EXECUTE
      'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.grantor
        WHERE m.roleid = ''tf_worker''::regrole AND m.member = ''tf_app''::regrole'
    LOOP
      EXECUTE format('REVOKE tf_worker FROM tf_app GRANTED BY %I', v_grantor);
    END LOOP;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_auth_members WHERE roleid = 'tf_worker'::regrole AND member = 'tf_app'::regrole) THEN
    RAISE EXCEPTION 'tf_app is still a member of tf_worker; as a superuser run REVOKE tf_worker FROM tf_app and migrate again';
  END IF;
  -- The worker's transactions get the runtime role's limit on idling with locks held (V014).
  EXECUTE format('ALTER ROLE tf_worker IN DATABASE %I SET idle_in_transaction_session_timeout = %L', current_database(), '5min');
END $$;
