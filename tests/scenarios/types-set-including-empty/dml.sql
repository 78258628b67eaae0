INSERT INTO {table} (id, tags, opt) VALUES (1000 + {n}, {n} % 32, '');
UPDATE {table} SET tags = '', opt = 'y,x' WHERE id = {n} % 300 + 1;
UPDATE {table} SET tags = 'd,a,é', opt = NULL WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
