INSERT INTO {table} (id, name, body) VALUES (1000 + {n}, 'Ærøskøbing', _latin1 x'818D8F909D');
UPDATE {table} SET name = CONCAT('Zoë ', {n}), body = CONCAT(body, 'ÿ') WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
