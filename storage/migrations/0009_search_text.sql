-- 0009: nothing to change on SQLite. PostgreSQL's 0009 stores the folded ticket text in a
-- generated column for its trigram index; SQLite's search index (the FTS5 table ticket_fts,
-- 0002) already holds the folded text, filled once by its trigger. Both sets keep the same
-- numbers, so this one only takes the number.
SELECT 1;
