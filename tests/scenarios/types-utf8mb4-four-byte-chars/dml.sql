INSERT INTO {table} (id, name, body) VALUES (1000 + {n}, CONCAT('🚀', {n}, '🚀'), REPEAT('👩‍👩‍👧‍👦', 20));
UPDATE {table} SET name = CONCAT('🐍 ', {n}), body = CONCAT(body, '🙂') WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
