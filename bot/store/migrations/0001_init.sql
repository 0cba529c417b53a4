-- 0001_init: the catalogue of digests and papers.
--
-- Timestamps are ISO-8601 UTC text ("2025-01-31T12:00:00.000000Z"), so they sort as text.
-- Papers are never deleted: a paper whose every digest is gone is marked removed = 1, so its
-- document number (rowid), id, links and alerts stay valid, and it comes back if it reappears.

-- Key/value facts about the catalogue: catalogue_version, last_indexed_at, and (later) the
-- hash of the synced command tree.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per digest file ever indexed; path is relative to the digest folder.
CREATE TABLE digests (
    id           INTEGER PRIMARY KEY,
    path         TEXT    NOT NULL UNIQUE,
    content_hash TEXT    NOT NULL,              -- sha256 of the file's bytes when indexed
    size         INTEGER NOT NULL DEFAULT 0,    -- file size and modification time when last
    mtime_ns     INTEGER NOT NULL DEFAULT 0,    --   checked: equal -> unchanged, not re-read
    heading      TEXT,                          -- the page heading, e.g. "Clay County"
    indexed_at   TEXT    NOT NULL,              -- when this content was indexed
    paper_count  INTEGER NOT NULL DEFAULT 0,    -- papers in this content
    present      INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0, 1))  -- file still in folder
);
CREATE INDEX digests_latest ON digests (present, indexed_at);

-- rowid is the stable document number used by the search index; AUTOINCREMENT so a number is
-- never reused. id is the short typeable id (8+ Crockford base32 characters, see
-- docs/architecture.md), key the sha256 identity. entry_hash is a hash of title, authors,
-- venue and abstract, so an update is detected without reading abstracts back.
CREATE TABLE papers (
    rowid       INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    key         TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    authors_raw TEXT    NOT NULL,
    venue       TEXT    NOT NULL,
    abstract    TEXT    NOT NULL,
    line        INTEGER NOT NULL DEFAULT 0,     -- line of the entry in the digest it came from
    entry_hash  TEXT    NOT NULL,
    first_seen  TEXT    NOT NULL,               -- when the catalogue first saw the paper
    updated_at  TEXT    NOT NULL,               -- last change (content or removed flag)
    removed     INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1))
);
CREATE INDEX papers_removed ON papers (removed);

-- A person, grouped by the accent- and case-folded name (Author.key); display is the first
-- spelling seen. paper_count = papers not removed, kept up to date by the reindex.
CREATE TABLE authors (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    display     TEXT    NOT NULL,
    paper_count INTEGER NOT NULL DEFAULT 0
);

-- The ordered author list of each paper, with the name as written in that paper.
CREATE TABLE paper_authors (
    paper    INTEGER NOT NULL REFERENCES papers (rowid),
    position INTEGER NOT NULL,                  -- 0-based order in the author list
    author   INTEGER NOT NULL REFERENCES authors (id),
    last     TEXT    NOT NULL,
    first    TEXT    NOT NULL,
    PRIMARY KEY (paper, position)
) WITHOUT ROWID;
CREATE INDEX paper_authors_author ON paper_authors (author, paper);

-- Which digest a paper appeared in, at which line. present = 1 while the paper is in the
-- digest's latest indexed content; an appearance that was edited out keeps present = 0, so a
-- paper remembers every digest it appeared in. A paper is removed when none of its rows is
-- present in a digest that is itself present.
CREATE TABLE paper_digests (
    paper   INTEGER NOT NULL REFERENCES papers (rowid),
    digest  INTEGER NOT NULL REFERENCES digests (id),
    line    INTEGER NOT NULL,
    present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0, 1)),
    PRIMARY KEY (paper, digest)
) WITHOUT ROWID;
CREATE INDEX paper_digests_digest ON paper_digests (digest, present, line);

INSERT INTO meta (key, value) VALUES ('catalogue_version', '0');
