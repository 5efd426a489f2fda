-- A transaction left idle by its owner (a worker cut off at shutdown, a stuck client) holds its
-- row locks until the connection goes. PostgreSQL ends any tf_app session idle inside a
-- transaction for five minutes. The longest legitimate pauses are Stripe calls made while a
-- billing row is locked (13 s at the client's timeouts, plus queueing for the tf-stripe pool
-- when Stripe is slow); blob-store work never runs inside a transaction. Applies to connections
-- opened after the migration.
DO $$
BEGIN
  EXECUTE format('ALTER ROLE tf_app IN DATABASE %I SET idle_in_transaction_session_timeout = %L', current_database(), '5min');
END $$;
