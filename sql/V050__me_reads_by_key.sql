-- GET /api/v1/me reads its rows by key, whatever the tables' size.
--
-- me_read (V043) reads one user by primary key, its account and its billing row. With statistics
-- that show small tables (a new deployment, or the load test's 200 accounts once autovacuum has
-- analysed them), PostgreSQL's generic plan scans users and accounts sequentially and filters
-- them: cheaper by its cost model (random_page_cost 4), not on the clock. Driven by pgbench alone
-- on an analysed copy of the load test's database (tf_app, 16 clients, two alternations):
-- 21,649 and 22,583 calls a second with the scans, 26,060 and 27,379 with the indexes. With many
-- users the planner takes the indexes by itself; this makes it do so from the first account on.
-- enable_seqscan = off only prices a sequential scan out: where no index serves, one still runs.
SET LOCAL ROLE tf_owner;

ALTER FUNCTION me_read(uuid, uuid) SET enable_seqscan = off;
