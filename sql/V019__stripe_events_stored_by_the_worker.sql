-- A verified Stripe event is stored through stripe_event_store(), and the worker applies what is
-- stored: marks invoices paid, sets subscription states. The runtime role could call it, so one
-- injected or mistaken statement in any request could have stored a forged "verified" event
-- (a connected account's payment naming another account's invoice) for the worker to apply,
-- which is the reach V017 took away. The webhook now stores through the worker's own login.
SET LOCAL ROLE tf_owner;

REVOKE EXECUTE ON FUNCTION stripe_event_store(text, text, text, text, boolean, timestamptz, jsonb) FROM tf_app;
GRANT EXECUTE ON FUNCTION stripe_event_store(text, text, text, text, boolean, timestamptz, jsonb) TO tf_worker;
