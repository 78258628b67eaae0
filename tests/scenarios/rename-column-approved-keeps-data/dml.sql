-- positional INSERT/REPLACE: valid before and after the rename, and they write the renamed column
INSERT INTO {table} VALUES (1000 + {n}, {n}, CONCAT('inserted ', {n}), 4294967295);
REPLACE INTO {table} VALUES ({n} % 400 + 1, -{n}, CONCAT('replaced ', {n}), {n});
UPDATE {table} SET c1 = c1 + 1 WHERE id = ({n} * 7) % 400 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 400 + 1;
