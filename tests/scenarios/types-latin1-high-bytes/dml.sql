INSERT INTO {table} (id, c, vc, t) VALUES (1000 + {n}, _latin1 x'818D8F909D', CONCAT(_latin1 x'8D', {n}, _latin1 x'9D'), _latin1 x'E9FF81');
UPDATE {table} SET vc = CONCAT(vc, _latin1 x'90'), t = CONCAT(_latin1 x'8F', t) WHERE id = {n} % 128 + 128;
UPDATE {table} SET c = _latin1 x'9D9D' WHERE id = ({n} * 7) % 128 + 128;
DELETE FROM {table} WHERE id = ({n} * 13) % 128 + 128;
INSERT IGNORE INTO {table} (id, c, vc, t) VALUES (({n} * 13) % 128 + 128, _latin1 x'81', _latin1 x'8D8F', _latin1 x'90');
