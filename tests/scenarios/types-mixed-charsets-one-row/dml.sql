INSERT INTO {table} (id, l, u3, u4, a) VALUES (1000 + {n}, 'Æther ÿ', 'Ωmega ✓', '🦄', 'ascii');
UPDATE {table} SET l = CONCAT('é', {n}), u4 = CONCAT('💡', {n}) WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
