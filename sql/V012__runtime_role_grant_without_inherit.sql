-- V009 set tf_app NOINHERIT, which is enough on PostgreSQL 15. From PostgreSQL 16 on, inheritance
-- is a property of each membership grant, and ALTER ROLE ... NOINHERIT only sets the default for
-- grants made after it: V001's grant of tf_worker to tf_app kept INHERIT TRUE, and with it the
-- worker's USING (true) policies leaked into every tf_app query (compose.yaml runs PostgreSQL 16).
-- On 16+, every recorded grant (one per grantor there) is revoked and one non-inheriting grant
-- made, and the migration fails rather than finish with an inheriting one left. On 15 the
-- membership is simply re-made. RowLevelSecurityTest checks that tf_app may SET ROLE tf_worker
-- but holds none of its reach.
ALTER ROLE tf_app NOINHERIT;

DO $$
DECLARE
  v_grantor name;
  v_inherits boolean;
BEGIN
  IF current_setting('server_version_num')::int < 160000 THEN
    REVOKE tf_worker FROM tf_app;
    GRANT tf_worker TO tf_app;
    RETURN;
  END IF;
  FOR v_grantor IN
    SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.grantor
     WHERE m.roleid = 'tf_worker'::regrole AND m.member = 'tf_app'::regrole
  LOOP
    EXECUTE format('REVOKE tf_worker FROM tf_app GRANTED BY %I', v_grantor);
  END LOOP;
  -- Dynamic: neither the option syntax nor the column exists before 16.
  EXECUTE 'GRANT tf_worker TO tf_app WITH INHERIT FALSE';   -- SET stays TRUE, its default
  EXECUTE 'SELECT bool_or(inherit_option) FROM pg_auth_members
            WHERE roleid = ''tf_worker''::regrole AND member = ''tf_app''::regrole' INTO v_inherits;
  IF v_inherits THEN
    RAISE EXCEPTION 'tf_app still inherits tf_worker''s privileges; revoke that membership by hand and migrate again';
  END IF;
END $$;
