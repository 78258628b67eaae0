INSERT INTO {table} (id, region, v) VALUES (1000 + {n}, 'eu', {n}), (1000 + {n}, 'us', {n});
UPDATE {table} SET v = v + 1 WHERE id = {n} % 300 AND region = 'apac';
UPDATE {table} SET region = CONCAT('moved', {n}) WHERE id = ({n} * 7) % 300 AND region = 'us';
DELETE FROM {table} WHERE id = ({n} * 13) % 300 AND region = 'eu';
