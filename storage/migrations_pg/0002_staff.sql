-- 0002 for PostgreSQL (as storage/migrations/0002_staff.sql): staff queue, search and canned
-- replies.

-- Queue and search by house and area, newest first, across statuses.
CREATE INDEX tickets_scope_recent ON tickets(house_id, neighbourhood_id, created_at);
CREATE INDEX tickets_by_phone ON tickets(phone) WHERE phone IS NOT NULL;
CREATE INDEX roles_by_role ON roles(role, person_id) WHERE revoked_at IS NULL;
CREATE INDEX invites_by_creator ON invites(created_by, created_at);

-- Search (SQLite: the trigram FTS5 table ticket_fts): a pg_trgm GIN index on the ticket text
-- folded the way bot.domain.text.normalize folds it (Arabic letters, ZWNJ, digits, tatweel)
-- and lowered. A search is `<this expression> LIKE '%query%'`; the expression must stay
-- exactly storage.dialect.folded("text") for the planner to use the index (a test checks).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tickets_text_trgm ON tickets USING gin ((lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(text, 'ي', 'ی'), 'ى', 'ی'), 'ئ', 'ی'), 'ك', 'ک'), 'ة', 'ه'), 'ۀ', 'ه'), 'أ', 'ا'), 'إ', 'ا'), 'آ', 'ا'), 'ؤ', 'و'), U&'\200C', ' '), '۰', '0'), '۱', '1'), '۲', '2'), '۳', '3'), '۴', '4'), '۵', '5'), '۶', '6'), '۷', '7'), '۸', '8'), '۹', '9'), U&'\0640', ''))) gin_trgm_ops);

-- Default canned replies for every house (house_id NULL); houses add their own later.
INSERT INTO canned_replies(house_id, title, body) VALUES
    (NULL, 'دریافت شد', 'درخواست شما را دیدیم و در حال بررسی آن هستیم. نتیجه را همین‌جا به شما خبر می‌دهیم.'),
    (NULL, 'مراجعه حضوری', 'لطفاً در ساعات اداری با کارت ملی به دفتر خانه در محله مراجعه کنید.'),
    (NULL, 'نیاز به مدارک', 'برای پیگیری، لطفاً تصویر مدارک لازم را همین‌جا بفرستید.'),
    (NULL, 'اورژانس', 'در موارد فوری با اورژانس اجتماعی ۱۲۳ یا اورژانس پزشکی ۱۱۵ تماس بگیرید.');

-- pg_trgm finds letters by the database's LC_CTYPE: under "C" Persian text yields no trigrams
-- and every search reads the whole table (right answers, slowly). Say so once, here.
DO $$
BEGIN
    IF array_length(show_trgm('خانه'), 1) IS NULL THEN
        RAISE WARNING 'database LC_CTYPE % gives Persian text no trigrams: create the database with a UTF-8 ctype (e.g. C.UTF-8) so search can use tickets_text_trgm',
            current_setting('lc_ctype');
    END IF;
END
$$;
