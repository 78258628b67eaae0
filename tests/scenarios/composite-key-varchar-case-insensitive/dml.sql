-- 'name-1' and 'NAME-1' are the same key: a case-only key change must not duplicate or lose the row
UPDATE {table} SET name = IF(name = BINARY UPPER(name), LOWER(name), UPPER(name)) WHERE tenant = CONCAT('t', {n} % 5) AND name = CONCAT('name-', ({n} * 5) % 500 + {n} % 5);
INSERT INTO {table} (tenant, name, v) VALUES ('T1', CONCAT('NEW-', {n}), {n}) ON DUPLICATE KEY UPDATE v = v + 1;
INSERT INTO {table} (tenant, name, v) VALUES ('t1', CONCAT('new-', {n}), {n}) ON DUPLICATE KEY UPDATE v = v + 1000;
UPDATE {table} SET name = CONCAT(name, ' ') WHERE tenant = 't2' AND name = CONCAT('NAME-', ({n} * 7) % 100 * 5 + 2) AND LENGTH(name) < 30;
DELETE FROM {table} WHERE tenant = 'T3' AND name = CONCAT('NAME-', ({n} * 13) % 100 * 5 + 3);
