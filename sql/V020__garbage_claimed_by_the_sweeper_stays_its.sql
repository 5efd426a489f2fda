-- An upload registers its blob as garbage before writing it and takes it back (deletes the row)
-- in the transaction that commits the document. The sweeper claims due rows, commits the claim,
-- deletes the bytes outside any transaction, then deletes the rows. An upload finishing between
-- that claim and the row's deletion (one taking over an hour on a poor mobile link) still found
-- its row, took it back and committed a document whose bytes were being deleted. A claimed row
-- now says so, and only an unclaimed one can be taken back (DocumentRepository.forgetGarbage).
SET LOCAL ROLE tf_owner;

ALTER TABLE storage_garbage ADD COLUMN claimed_at timestamptz;
GRANT UPDATE (claimed_at) ON storage_garbage TO tf_worker;
