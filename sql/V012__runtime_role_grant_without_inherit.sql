-- V009 set tf_app NOINHERIT, which is enough on PostgreSQL 15. From PostgreSQL 16 on, inheritance
-- is a property of each membership grant, and ALTER ROLE ... NOINHERIT only sets the default for
-- grants made after it: V001's grant of tf_worker to tf_app kept INHERIT TRUE, and with it the
-- worker's USING (true) policies leaked into every tf_app query (compose.yaml runs PostgreSQL 16).
-- Re-granting after the NOINHERIT takes the non-inheriting default on 16+, and changes nothing
-- on 15; RowLevelSecurityTest checks tf_app may SET ROLE tf_worker but holds none of its reach.
ALTER ROLE tf_app NOINHERIT;
REVOKE tf_worker FROM tf_app;
GRANT tf_worker TO tf_app;
