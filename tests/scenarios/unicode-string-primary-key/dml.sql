INSERT INTO {table} (slug, v) VALUES (CONCAT('🚀-', {n}), {n}) ON DUPLICATE KEY UPDATE v = v + 1;
UPDATE {table} SET v = v + 1 WHERE slug = CONCAT('STRASSE-', ({n} * 4) % 400 + 1);
UPDATE IGNORE {table} SET slug = CONCAT('NANDU-', {n}) WHERE slug = CONCAT('ñandú-', ({n} * 4 + 2) % 400);
DELETE FROM {table} WHERE slug = CONCAT('日本-', ({n} * 4 + 3) % 400);
