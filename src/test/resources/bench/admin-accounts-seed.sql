-- :accounts accounts for the admin area's benchmark (AdminReadBenchmark), one user each, spread
-- over the last two years (about 1/730 of them a day, so a 30-day window holds ~4%), 90% with a
-- billing row: 50% active, 20% trialing, 5% past_due, 15% cancelled (half of them within the
-- last 30 days), the rest never subscribed; 2% suspended, 1% closed. Run as the superuser in a
-- scratch database: session_replication_role = replica keeps the paid-period trigger from
-- overwriting the seeded times.
SET session_replication_role = replica;

CREATE TEMP TABLE seed AS
  SELECT i, gen_random_uuid() AS id FROM generate_series(1, :accounts) AS i;

INSERT INTO accounts (id, business_name, status, created_at, updated_at)
SELECT id,
       (ARRAY['Sparks', 'Pipes', 'Roofing', 'Joinery', 'Plastering', 'Tiling', 'Gardens', 'Locks'])[1 + i % 8]
         || ' ' || substr(md5(i::text), 1, 8) || ' Ltd',
       CASE WHEN i % 100 = 7 THEN 'closed' WHEN i % 50 = 3 THEN 'suspended' ELSE 'active' END,
       now() - (i % 730) * interval '1 day' - (i % 86400) * interval '1 second',
       now()
  FROM seed;

INSERT INTO users (account_id, email, email_verified_at, created_at)
SELECT s.id, 'owner' || s.i || '.' || substr(md5(s.i::text), 9, 6) || '@trade' || (s.i % 500) || '.example',
       a.created_at, a.created_at
  FROM seed s JOIN accounts a ON a.id = s.id;

INSERT INTO billing_accounts (account_id, stripe_customer_id, subscription_id, subscription_status, stripe_status,
                              trial_end, current_period_end, price_id, price_amount_pence, price_currency,
                              price_interval, price_interval_count, paying_since, cancelled_at)
SELECT s.id, 'cus_seed' || s.i, 'sub_seed' || s.i, st.status, st.status,
       CASE WHEN st.status = 'trialing' THEN now() + interval '7 days' END,
       now() + interval '20 days',
       'price_seed', CASE WHEN s.i % 4 = 0 THEN 19900 ELSE 1999 END, 'gbp',
       CASE WHEN s.i % 4 = 0 THEN 'year' ELSE 'month' END, 1,
       CASE WHEN st.status IN ('active', 'past_due', 'cancelled') THEN now() - (s.i % 700 + 10) * interval '1 day' END,
       CASE WHEN st.status = 'cancelled' THEN now() - (s.i % 60) * interval '1 day' END
  FROM seed s
 CROSS JOIN LATERAL (SELECT CASE
          WHEN s.i % 20 < 10 THEN 'active'
          WHEN s.i % 20 < 14 THEN 'trialing'
          WHEN s.i % 20 < 15 THEN 'past_due'
          WHEN s.i % 20 < 18 THEN 'cancelled'
          ELSE 'none' END AS status) st
 WHERE s.i % 10 <> 9;

SET session_replication_role = DEFAULT;
ANALYZE accounts;
ANALYZE users;
ANALYZE billing_accounts;
