-- 0009 for PostgreSQL: /search compares a stored column instead of folding every candidate.
--
-- tickets_text_trgm (0002) indexed the folded text as an expression of 22 nested replace()
-- calls; the index only yields candidates, and PostgreSQL re-evaluated the expression on each
-- one to recheck LIKE (about 3.6 µs a row: 40-70k candidates for common words over a city at
-- 1,000,000 tickets, 150-350 ms). The folded text is now a stored generated column, computed
-- once when a ticket's text is written (also when /forget_me erases it), and the trigram index
-- is over that column (joined, below). The column must stay exactly
-- storage.dialect.folded("text") (a test checks).
-- copy-db neither copies nor checksums generated columns, so SQLite (which has no such column:
-- its FTS5 trigger folds the same way) and PostgreSQL still compare equal.
-- Adding the column rewrites the table once (about a minute at 1,000,000 tickets).
ALTER TABLE tickets ADD COLUMN search_text TEXT COLLATE "C"
    GENERATED ALWAYS AS (lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(text, 'ي', 'ی'), 'ى', 'ی'), 'ئ', 'ی'), 'ك', 'ک'), 'ة', 'ه'), 'ۀ', 'ه'), 'أ', 'ا'), 'إ', 'ا'), 'آ', 'ا'), 'ؤ', 'و'), U&'\200C', ' '), '۰', '0'), '۱', '1'), '۲', '2'), '۳', '3'), '۴', '4'), '۵', '5'), '۶', '6'), '۷', '7'), '۸', '8'), '۹', '9'), U&'\0640', ''))) STORED;
DROP INDEX tickets_text_trgm;
-- The index is over the column with its spaces made a letter (U+01C2): pg_trgm splits text into
-- words at anything else, so a phrase would only look up each word's trigrams (every text with
-- both words anywhere a candidate: 70-200k of 1,000,000 in the benchmark); joined, the
-- trigrams across the space count too. Must stay exactly storage.dialect.INDEXED_COLUMN.
CREATE INDEX tickets_search_trgm ON tickets USING gin ((replace(search_text, ' ', U&'\01C2')) gin_trgm_ops);
ANALYZE tickets;
