-- 0003_digest_dates: when a digest's content was last modified, to order digests by date.
--
-- A paper found in several digests takes its text from the newest digest: the one dated
-- latest by the YYYY-MM-DD in its file name or, without one, by content_mtime_ns; ties go to
-- the later file name (docs/architecture.md). content_mtime_ns is the file's modification time
-- when its current content was indexed: touching the file (same content) leaves it alone, so
-- a touch never makes a digest newer; changing the content moves it on.
ALTER TABLE digests ADD COLUMN content_mtime_ns INTEGER NOT NULL DEFAULT 0;
UPDATE digests SET content_mtime_ns = mtime_ns;
