INSERT INTO {table} (id, status) VALUES (1000 + {n}, ELT({n} % 3 + 1, 'new', 'paid', 'shipped'));
UPDATE {table} SET status = 'shipped' WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
