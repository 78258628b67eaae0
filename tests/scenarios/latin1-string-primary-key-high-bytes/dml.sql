UPDATE {table} SET v = v + 1 WHERE code IN (_latin1 x'81', _latin1 x'8D', _latin1 x'9D');
UPDATE {table} SET v = -v WHERE code = CONCAT(CONVERT(UNHEX(HEX({n} % 128 + 128)) USING latin1), {n} % 128 + 128);
DELETE FROM {table} WHERE code = _latin1 x'90';
INSERT INTO {table} (code, v) VALUES (_latin1 x'90', {n});
UPDATE IGNORE {table} SET code = CONCAT(code, _latin1 x'8F') WHERE code = _latin1 x'8F';
UPDATE IGNORE {table} SET code = _latin1 x'8F' WHERE code = _latin1 x'8F8F';
