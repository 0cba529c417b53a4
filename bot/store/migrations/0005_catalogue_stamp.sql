-- 0005_catalogue_stamp: a random stamp of the catalogue's state, renewed with every version.
--
-- The saved search index records the catalogue version AND this stamp it was built from, and
-- is trusted only when both equal the database's: a database recreated from scratch, or a
-- backup restored and then reindexed differently, reaches the same version number with
-- different papers, but never the same stamp. PaperStore.bump_version writes a new one in the
-- reindex transaction; this gives every existing database (and every new one) its first.
INSERT INTO meta (key, value) VALUES ('catalogue_stamp', lower(hex(randomblob(16))))
ON CONFLICT (key) DO NOTHING;
