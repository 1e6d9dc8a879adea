-- Layer patterns are no longer regular expressions, and runs name detectors from the workers'
-- registry instead of giving paths on a worker (issue 14). Workers refuse jobs that still carry
-- either, so a run at work with such a configuration could never finish: it fails now, saying why
-- and what to do. Finished, failed and cancelled runs keep their configuration and results.
WITH stale AS (
  SELECT r.id,
         CASE
           WHEN r.detector LIKE '%:%' OR r.detector LIKE '%/%'
             THEN 'its detector ''' || r.detector || ''' is a path on a worker; runs now name detectors from the workers'' registry (shapes, or a name in models/detectors.json): submit it again with a name'
           ELSE 'its layer patterns include a regular expression, which is no longer accepted; submit it again with dotted-path patterns (* within a segment, {a,b} alternatives)'
         END AS reason
  FROM runs r
  LEFT JOIN method_configs c ON c.id = r.method_config_id
  WHERE r.status IN ('QUEUED', 'GENERATING', 'EVALUATING')
    AND (r.detector LIKE '%:%' OR r.detector LIKE '%/%'
         OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(COALESCE(c.canonical_json::jsonb #> '{params,layers}', '[]'::jsonb)) AS l(pattern)
                    WHERE l.pattern LIKE '/%'))
), failed AS (
  UPDATE runs r
  SET status = 'FAILED', failed_at = CURRENT_TIMESTAMP, error_reason = stale.reason, updated_at = CURRENT_TIMESTAMP
  FROM stale
  WHERE r.id = stale.id
  RETURNING r.id, stale.reason
)
INSERT INTO run_events (run_id, status, at, reason)
SELECT id, 'FAILED', CURRENT_TIMESTAMP, reason FROM failed;
