-- V009 set tf_app NOINHERIT, which is enough on PostgreSQL 15. From PostgreSQL 16 on, inheritance
-- is a property of each membership grant, and ALTER ROLE ... NOINHERIT only sets the default for
-- grants made after it: V001's grant of tf_worker to tf_app kept INHERIT TRUE, and with it the
-- worker's USING (true) policies leaked into every tf_app query (compose.yaml runs PostgreSQL 16).
-- On 16+, every inheriting grant (there may be one per grantor) is revoked, a non-inheriting one
-- made if none is left, and the migration fails rather than finish with an inheriting one. On 15 the
-- membership is simply re-made. RowLevelSecurityTest checks that tf_app may SET ROLE tf_worker
-- but holds none of its reach.
ALTER ROLE tf_app NOINHERIT;

DO $$
DECLARE
  v_grantor name;
  v_member boolean;
  v_inherits boolean;
BEGIN
  IF current_setting('server_version_num')::int < 160000 THEN
    REVOKE tf_worker FROM tf_app;
    GRANT tf_worker TO tf_app;
    RETURN;
  END IF;
  -- Dynamic throughout: neither the option syntax nor the inherit_option column exists before 16.
  -- Only inheriting grants are revoked: a migration role that is not superuser may not revoke a
  -- superuser's grant, and must not be made to when that grant is already harmless.
  FOR v_grantor IN EXECUTE
    'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.grantor
      WHERE m.roleid = ''tf_worker''::regrole AND m.member = ''tf_app''::regrole AND m.inherit_option'
  LOOP
    BEGIN
      EXECUTE format('REVOKE tf_worker FROM tf_app GRANTED BY %I', v_grantor);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'tf_app inherits tf_worker through a grant by %, which this migration may not revoke; as that role run REVOKE tf_worker FROM tf_app; GRANT tf_worker TO tf_app WITH INHERIT FALSE; then migrate again', v_grantor;
    END;
  END LOOP;
  EXECUTE 'SELECT count(*) > 0 FROM pg_auth_members WHERE roleid = ''tf_worker''::regrole AND member = ''tf_app''::regrole'
    INTO v_member;
  IF NOT v_member THEN
    EXECUTE 'GRANT tf_worker TO tf_app WITH INHERIT FALSE';   -- SET stays TRUE, its default
  END IF;
  EXECUTE 'SELECT bool_or(inherit_option) FROM pg_auth_members
            WHERE roleid = ''tf_worker''::regrole AND member = ''tf_app''::regrole' INTO v_inherits;
  IF v_inherits THEN
    RAISE EXCEPTION 'tf_app still inherits tf_worker''s privileges; revoke that membership by hand and migrate again';
  END IF;
END $$;
