-- The owners' CSV reports read across accounts. Like the admin area's other reads (V030) they run
-- as the narrowly granted worker role, on its own connections, so no statement a request runs as
-- the runtime role can reach another account's rows through them.
REVOKE EXECUTE ON FUNCTION report_accounts_page(uuid, integer), report_subscriptions_page(uuid, integer),
                           report_emails_page(uuid, integer), report_audit_page(bigint, bigint, integer),
                           report_audit_last(), report_export_usable(uuid, uuid, bytea) FROM tf_app;
GRANT EXECUTE ON FUNCTION report_accounts_page(uuid, integer), report_subscriptions_page(uuid, integer),
                          report_emails_page(uuid, integer), report_audit_page(bigint, bigint, integer),
                          report_audit_last(), report_export_usable(uuid, uuid, bytea) TO tf_worker;
