-- 0007 for PostgreSQL (the same statement as storage/migrations/0007_wording.sql).
-- The seeded «in person» template: «دفتر خانه» reads as «دفترخانه» (a notary's office);
-- name the office of the house that handles the request. Only the untouched seed row changes.
UPDATE canned_replies
SET body = 'لطفاً در ساعات اداری با کارت ملی به دفتر خانهٔ رسیدگی‌کننده در محله مراجعه کنید.'
WHERE house_id IS NULL AND title = 'مراجعه حضوری'
  AND body = 'لطفاً در ساعات اداری با کارت ملی به دفتر خانه در محله مراجعه کنید.';
