-- The tradesperson's data. Every table carries account_id, leads its indexes with it, and is
-- filtered by the database itself. Cross-table references include account_id, so even a buggy
-- write cannot point one account's job at another account's customer.
SET LOCAL ROLE tf_owner;

CREATE TABLE customers (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id  uuid NOT NULL DEFAULT app_account_id() REFERENCES accounts(id),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email       text CHECK (length(email) <= 254),
  phone       text CHECK (length(phone) <= 40),
  address     text CHECK (length(address) <= 1000),
  notes       text CHECK (length(notes) <= 10000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, id)
);
CREATE INDEX customers_account_created_idx ON customers (account_id, created_at DESC, id DESC);

CREATE TABLE jobs (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id    uuid NOT NULL DEFAULT app_account_id() REFERENCES accounts(id),
  customer_id   uuid,
  title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  description   text CHECK (length(description) <= 10000),
  status        text NOT NULL DEFAULT 'quoted'
                CHECK (status IN ('quoted', 'scheduled', 'in_progress', 'done', 'cancelled')),
  scheduled_for timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, id),
  FOREIGN KEY (account_id, customer_id) REFERENCES customers (account_id, id)
);
CREATE INDEX jobs_account_created_idx ON jobs (account_id, created_at DESC, id DESC);
CREATE INDEX jobs_account_customer_idx ON jobs (account_id, customer_id);

CREATE TABLE invoices (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id    uuid NOT NULL DEFAULT app_account_id() REFERENCES accounts(id),
  number        integer NOT NULL CHECK (number > 0),
  customer_id   uuid NOT NULL,
  job_id        uuid,
  status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'paid', 'void')),
  currency      text NOT NULL DEFAULT 'GBP' CHECK (currency ~ '^[A-Z]{3}$'),
  total_pence   bigint NOT NULL DEFAULT 0 CHECK (total_pence >= 0),
  due_date      date,
  payment_url   text,
  paid_at       timestamptz,
  -- Bumped on every change a customer would see, so "send this version" can be deduplicated.
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, id),
  UNIQUE (account_id, number),
  FOREIGN KEY (account_id, customer_id) REFERENCES customers (account_id, id),
  FOREIGN KEY (account_id, job_id) REFERENCES jobs (account_id, id)
);
CREATE INDEX invoices_account_created_idx ON invoices (account_id, created_at DESC, id DESC);
CREATE INDEX invoices_account_status_created_idx ON invoices (account_id, status, created_at DESC, id DESC);
CREATE INDEX invoices_account_customer_idx ON invoices (account_id, customer_id);
CREATE INDEX invoices_account_job_idx ON invoices (account_id, job_id);

CREATE TABLE invoice_lines (
  account_id   uuid NOT NULL DEFAULT app_account_id(),
  invoice_id   uuid NOT NULL,
  position     smallint NOT NULL CHECK (position >= 0),
  description  text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
  quantity     numeric(12, 2) NOT NULL CHECK (quantity > 0),
  unit_pence   bigint NOT NULL CHECK (unit_pence >= 0),
  PRIMARY KEY (account_id, invoice_id, position),
  FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id) ON DELETE CASCADE
);

-- Per-account invoice numbers: the counter row is locked by the UPDATE until the invoice's
-- transaction ends, so numbers are gap-free (a rollback gives its number back) and two
-- concurrent creations for one account queue on that single row, not on a table lock.
CREATE TABLE invoice_counters (
  account_id   uuid PRIMARY KEY DEFAULT app_account_id() REFERENCES accounts(id),
  last_number  integer NOT NULL
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customers', 'jobs', 'invoices', 'invoice_lines', 'invoice_counters'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY %I ON %I TO tf_app
                      USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))
                      WITH CHECK (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))$p$,
                   t || '_own', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO tf_app', t);
  END LOOP;
END $$;
