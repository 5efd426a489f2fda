-- tf_app is a member of tf_worker so that Db.asWorker can SET LOCAL ROLE tf_worker for the few
-- jobs that cross accounts. With INHERIT (the default) tf_app also held tf_worker's privileges
-- at all times, and PostgreSQL applies a policy to every role holding the privileges of the role
-- it names: the worker policies written USING (true) were OR'ed into every tf_app transaction,
-- so an account-scoped query on email_outbox, email_events, billing_accounts, stripe_events,
-- documents or storage_garbage saw other accounts' rows. NOINHERIT keeps the membership (SET
-- ROLE still works) and drops the inherited privileges and policies; RowLevelSecurityTest proves
-- both.
ALTER ROLE tf_app NOINHERIT;
