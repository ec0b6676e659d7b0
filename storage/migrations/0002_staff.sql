-- 0003 (temporarily numbered 0002 on this branch): staff queue, search and canned replies.

-- Queue and search by house and area, newest first, across statuses.
CREATE INDEX tickets_scope_recent ON tickets(house_id, neighbourhood_id, created_at);
CREATE INDEX tickets_by_phone ON tickets(phone) WHERE phone IS NOT NULL;
CREATE INDEX roles_by_role ON roles(role, person_id) WHERE revoked_at IS NULL;
CREATE INDEX invites_by_creator ON invites(created_by, created_at);

-- Normalised full-text search (trigram: substrings, Persian-friendly). The text is folded
-- the way bot.domain.text.normalize folds it (Arabic letters, ZWNJ, digits) when written.
CREATE VIRTUAL TABLE ticket_fts USING fts5(body, tokenize = 'trigram', content = '');

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_fts(rowid, body) VALUES (new.id, lower(
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(new.text,
        'ي', 'ی'), 'ى', 'ی'), 'ئ', 'ی'), 'ك', 'ک'), 'ة', 'ه'), 'ۀ', 'ه'), 'أ', 'ا'),
        'إ', 'ا'), 'آ', 'ا'), 'ؤ', 'و'), char(8204), ' '),
        '۰', '0'), '۱', '1'), '۲', '2'), '۳', '3'), '۴', '4'), '۵', '5'), '۶', '6'),
        '۷', '7'), '۸', '8'), '۹', '9'), char(1600), '')));
END;

INSERT INTO ticket_fts(rowid, body) SELECT id, lower(
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(text,
        'ي', 'ی'), 'ى', 'ی'), 'ئ', 'ی'), 'ك', 'ک'), 'ة', 'ه'), 'ۀ', 'ه'), 'أ', 'ا'),
        'إ', 'ا'), 'آ', 'ا'), 'ؤ', 'و'), char(8204), ' '),
        '۰', '0'), '۱', '1'), '۲', '2'), '۳', '3'), '۴', '4'), '۵', '5'), '۶', '6'),
        '۷', '7'), '۸', '8'), '۹', '9'), char(1600), '')) FROM tickets;

-- Default canned replies for every house (house_id NULL); houses add their own later.
INSERT INTO canned_replies(house_id, title, body) VALUES
    (NULL, 'دریافت شد', 'درخواست شما را دیدیم و در حال بررسی آن هستیم. نتیجه را همین‌جا به شما خبر می‌دهیم.'),
    (NULL, 'مراجعه حضوری', 'لطفاً در ساعات اداری با کارت ملی به دفتر خانه در محله مراجعه کنید.'),
    (NULL, 'نیاز به مدارک', 'برای پیگیری، لطفاً تصویر مدارک لازم را همین‌جا بفرستید.'),
    (NULL, 'اورژانس', 'در موارد فوری با اورژانس اجتماعی ۱۲۳ یا اورژانس پزشکی ۱۱۵ تماس بگیرید.');
