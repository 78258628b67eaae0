INSERT INTO {table} (id, g, p) VALUES (2000 + {n}, ST_GeomFromText('POINT(1.5 2.5)'), ST_GeomFromText(CONCAT('POINT(', {n}, ' 0)')));
UPDATE {table} SET p = ST_GeomFromText('POINT(-1 -1)') WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
