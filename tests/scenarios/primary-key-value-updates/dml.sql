-- key moves down, up, onto itself, into a freed slot, and a chain of moves in one transaction
UPDATE IGNORE {table} SET id = -id WHERE id = {n} % 500 + 1;
UPDATE IGNORE {table} SET id = 100000 + {n} WHERE id = ({n} * 7) % 500 + 1;
UPDATE {table} SET id = id, v = CONCAT('self ', {n}) WHERE id = ({n} * 11) % 500 + 1;
UPDATE IGNORE {table} SET id = -id WHERE id = -(({n} * 3) % 500 + 1);
BEGIN;
UPDATE IGNORE {table} SET id = 200000 + {n} WHERE id = ({n} * 17) % 500 + 1;
UPDATE IGNORE {table} SET id = ({n} * 17) % 500 + 1 WHERE id = ({n} * 19) % 500 + 1;
COMMIT;
