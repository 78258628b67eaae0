INSERT INTO {table} (id, p) VALUES (1000 + {n}, ST_GeomFromText(CONCAT('POINT(', {n} % 90, ' 1.5)')));
UPDATE {table} SET p = ST_GeomFromText('POINT(0 0)') WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
