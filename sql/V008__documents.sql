-- Job photos and documents. The bytes live encrypted in blob storage (TF_STORAGE_DIR/<account>/
-- or an object store); this table holds what is needed to find, decrypt and describe them:
-- the random blob name and the file's own data key, wrapped by the master key. Deleting a row
-- destroys the key first (crypto-shredding): the ciphertext left behind is unreadable.
SET LOCAL ROLE tf_owner;

CREATE TABLE documents (
  id            uuid PRIMARY KEY,
  account_id    uuid NOT NULL DEFAULT app_account_id() REFERENCES accounts(id),
  job_id        uuid,
  filename      text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
  content_type  text NOT NULL
                CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/heic', 'application/pdf')),
  size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
  stored_bytes  bigint NOT NULL CHECK (stored_bytes > size_bytes),
  blob_name     text NOT NULL UNIQUE CHECK (blob_name ~ '^[A-Za-z0-9_-]{22,64}$'),
  key_id        text NOT NULL,
  wrapped_key   bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, id),
  -- Deleting a job keeps its photos (they may be evidence of work done); they lose the link.
  FOREIGN KEY (account_id, job_id) REFERENCES jobs (account_id, id) ON DELETE SET NULL (job_id)
);
CREATE INDEX documents_account_created_idx ON documents (account_id, created_at DESC, id DESC);
CREATE INDEX documents_account_job_idx ON documents (account_id, job_id, created_at DESC, id DESC);

-- Blobs that may exist in storage without a document row, and must go: an upload registers its
-- blob here before writing a byte (removed in the transaction that commits the document, so a
-- crash mid-upload leaves a row the sweeper acts on), and a delete leaves its blob here until
-- the bytes are gone. Durable work in Postgres: no instance's memory is trusted with it.
CREATE TABLE storage_garbage (
  account_id    uuid NOT NULL DEFAULT app_account_id() REFERENCES accounts(id),
  blob_name     text NOT NULL CHECK (blob_name ~ '^[A-Za-z0-9_-]{22,64}$'),
  delete_after  timestamptz NOT NULL,
  attempts      integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, blob_name)
);
CREATE INDEX storage_garbage_due_idx ON storage_garbage (delete_after);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['documents', 'storage_garbage'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY %I ON %I TO tf_app
                      USING (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))
                      WITH CHECK (account_id = (SELECT nullif(current_setting('app.account_id', true), '')::uuid))$p$,
                   t || '_own', t);
    EXECUTE format('CREATE POLICY %I ON %I TO tf_owner USING (true)', t || '_definer', t);
  END LOOP;
END $$;
-- No UPDATE for the runtime: a document's bytes, type and key never change after upload.
GRANT SELECT, INSERT, DELETE ON documents TO tf_app;
GRANT SELECT, INSERT, DELETE ON storage_garbage TO tf_app;

-- The sweeper crosses accounts: it sees only garbage rows.
CREATE POLICY storage_garbage_worker ON storage_garbage TO tf_worker USING (true);
GRANT SELECT, DELETE, UPDATE (delete_after, attempts) ON storage_garbage TO tf_worker;

-- Master key rotation re-wraps data keys across accounts: it reads and rewrites the wrapped key
-- and its master key id, nothing else (no names, types or blob locations).
CREATE INDEX documents_key_id_idx ON documents (key_id);
CREATE POLICY documents_worker ON documents TO tf_worker USING (true);
GRANT SELECT (id, key_id, wrapped_key), UPDATE (key_id, wrapped_key) ON documents TO tf_worker;

-- Account deletion drops the account's document and garbage rows too: see retention_purge_account
-- in V010, which the retention job calls after deleting the account's blob folder.
