INSERT INTO {table} (id, doc) VALUES (2000 + {n}, JSON_OBJECT('n', {n}, 'big', REPEAT('x', 3000), 'u', '日本'));
UPDATE {table} SET doc = JSON_SET(doc, '$.name', CONCAT('renamed ', {n})) WHERE id = {n} % 300 + 1;
UPDATE {table} SET doc = '{"replaced": true, "list": [1, 2, 3]}' WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
