-- A transaction left idle by its owner (a worker cut off at shutdown, a stuck client) holds its
-- row locks until the connection goes. PostgreSQL ends any tf_app session idle inside a
-- transaction for a minute, far above the longest legitimate pause (a Stripe call of at most
-- 13 s made while a billing row is locked), so such locks cannot outlive a minute.
DO $$
BEGIN
  EXECUTE format('ALTER ROLE tf_app IN DATABASE %I SET idle_in_transaction_session_timeout = %L', current_database(), '60s');
END $$;
