-- tf_app held table-wide write privileges where requests write a few columns. A request that
-- went wrong could have set a subscription active, moved a connected account, or deleted an
-- invoice and with it a number from the gap-free sequence. It now holds exactly what the code
-- writes; the worker's and the definer functions' grants are unchanged.
SET LOCAL ROLE tf_owner;

-- Invoices are voided, never deleted (the purge runs as the owner, in retention_purge_account).
REVOKE DELETE ON invoices, invoice_counters FROM tf_app;

-- Sign-up creates the user; password and address changes, verification and the password epoch
-- are all a request ever updates.
REVOKE INSERT, UPDATE ON users FROM tf_app;
GRANT INSERT (id, account_id, email, password_hash) ON users TO tf_app;
GRANT UPDATE (email, email_verified_at, password_hash, password_epoch, updated_at) ON users TO tf_app;

-- A request creates the billing row and records the Stripe customer and connected account it
-- created; statuses come only from Stripe's webhooks, as tf_worker.
REVOKE INSERT, UPDATE ON billing_accounts FROM tf_app;
GRANT INSERT (account_id) ON billing_accounts TO tf_app;
GRANT UPDATE (stripe_customer_id, connect_account_id, updated_at) ON billing_accounts TO tf_app;
