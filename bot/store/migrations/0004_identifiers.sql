-- 0003_identifiers: where a paper lives (its identifier lines), and a digest's date.
--
-- Columns are only added (an existing catalogue upgrades in place; nothing is rewritten, so
-- every paper keeps its rowid, id and key). NULL means unknown.

-- From the entry's identifier lines (docs/digest-format.md): url = the first link that is
-- neither arXiv nor doi.org; arxiv_id without its version; doi as written (compared
-- case-insensitively); pdf_url = the arXiv PDF when the arXiv id is known, else a PDF link.
-- A paper never loses one: a later entry without identifiers leaves them as they are.
ALTER TABLE papers ADD COLUMN url TEXT;
ALTER TABLE papers ADD COLUMN arxiv_id TEXT;
ALTER TABLE papers ADD COLUMN doi TEXT;
ALTER TABLE papers ADD COLUMN pdf_url TEXT;
-- Two entries with the same arXiv id or DOI are one paper: the reindex looks them up here.
CREATE INDEX papers_arxiv_id ON papers (arxiv_id) WHERE arxiv_id IS NOT NULL;
CREATE INDEX papers_doi ON papers (doi COLLATE NOCASE) WHERE doi IS NOT NULL;

-- A digest's date (YYYY-MM-DD): from its file name "...YYYY-MM-DD...", else the file's
-- modification date (UTC); written by every reindex that reads the file. Rows indexed before
-- this migration get their modification date now; a date in the file name wins when read
-- (bot.store.papers), so those need no rewrite.
ALTER TABLE digests ADD COLUMN date TEXT;
UPDATE digests SET date = date(mtime_ns / 1000000000, 'unixepoch') WHERE mtime_ns > 0;
-- A feed's title, for digests made from a feed (shown instead of the file name).
ALTER TABLE digests ADD COLUMN title TEXT;
