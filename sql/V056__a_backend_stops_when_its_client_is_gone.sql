-- Db gives up on a unit at its budget and discards its connection by closing the socket (Db#discard).
-- PostgreSQL noticed only when it next read from the client: a statement still running ran on to
-- its end, holding its locks and its connection slot, while the pool opened new connections beside
-- it. A Stripe event claim that took the whole backlog (f6a93e5) left 90 such backends running for
-- minutes, until max_connections was exhausted. With this, a backend whose client closed its
-- socket stops its statement within a second (PostgreSQL 14 and later), and the transaction rolls
-- back; a client that vanished without closing (a host gone, a partition) is still found only by
-- TCP keepalives. Applies to connections opened after the migration, as V014 does. A platform that
-- cannot watch a socket this way refuses any value but 0: the migration then warns and goes on.
DO $$
BEGIN
  EXECUTE format('ALTER ROLE tf_app IN DATABASE %I SET client_connection_check_interval = %L', current_database(), '1s');
  EXECUTE format('ALTER ROLE tf_worker IN DATABASE %I SET client_connection_check_interval = %L', current_database(), '1s');
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE WARNING 'client_connection_check_interval is not supported here: a discarded connection''s statement runs to its end';
END $$;
