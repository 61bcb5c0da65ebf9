-- Clicks per page and minute, from a file of JSON lines, as a SQL script (docs/sql.md):
--
--   npx rlink sql examples/clicks.sql input=examples/data/clicks.jsonl output=out/page-stats.jsonl
--   npx rlink sql examples/clicks.sql input=/shared/clicks output=/shared/page-stats --jm http://10.1.2.0:8770
--
-- A click: {"ts": "2026-01-01 00:00:01.250", "user": "u1", "page": "/home", "ms": 120}

SET 'pipeline.name' = 'page-stats';

CREATE TABLE clicks (
  ts TIMESTAMP(3),
  user STRING,
  page STRING,
  ms BIGINT,                                      -- time on the page
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');

CREATE TABLE page_stats (
  minute TIMESTAMP(3), page STRING, clicks BIGINT, users BIGINT, avg_ms DOUBLE
) WITH ('connector' = 'filesystem', 'path' = '${output}');

INSERT INTO page_stats
SELECT window_start, page, COUNT(*), COUNT(DISTINCT user), AVG(ms)
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
WHERE page NOT LIKE '/admin%'
GROUP BY window_start, window_end, page
HAVING COUNT(*) > 1;
