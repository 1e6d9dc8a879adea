/**
 * The migration that fails runs still at work whose configuration workers now refuse (issue 14):
 * layer patterns written as regular expressions, detectors given as paths on a worker. Rows are
 * written before it is applied, as a database of the previous version holds them.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../../../test/support/postgres.ts';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate.ts';

const MIGRATION = '20261127090000_fail_runs_with_regex_layers_or_detector_paths';

let server: PostgresServer;
const scratch = mkdtempSync(join(tmpdir(), 'infsplign-names-migration-'));

before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('runs at work with regex layer patterns or detector paths fail with the reason; every other run is left alone', async () => {
  const earlier = join(scratch, 'earlier');
  cpSync(MIGRATIONS_DIR, earlier, { recursive: true, filter: (path) => !path.includes(MIGRATION) });
  assert.ok(readMigrations().some((m) => m.name === MIGRATION) && !readMigrations(earlier).some((m) => m.name === MIGRATION));
  const url = await server.createDatabase('names');
  await migrate(url, earlier);

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const config = (method: string, layers?: string[]) => JSON.stringify({ method, params: { cfg_scale: 3, steps: 20, ...(layers && { layers }) } });
    await client.query(`
      INSERT INTO teams (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 't');
      INSERT INTO benchmarks (id, name, scoring, default_threshold, default_images_per_prompt) VALUES ('00000000-0000-0000-0000-000000000002', 'visor-shapes', 'visor', 0.1, 4);
      INSERT INTO prompt_sets (id, benchmark_id, name, source) VALUES ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000002', 'eval', 'x');
      INSERT INTO methods (id, name, description, param_schema) VALUES ('00000000-0000-0000-0000-000000000004', 'infsplign', 'x', '{}');`);
    const configs = {
      glob: config('infsplign', ['up_blocks.{0,1}.attentions.0.transformer_blocks.0.attn2']),
      regex: config('infsplign', ['up_blocks.0', '/attn2$/']),
      baseline: config('baseline'),
    };
    const configIds: Record<string, string> = {};
    for (const [name, json] of Object.entries(configs)) {
      const { rows } = await client.query('INSERT INTO method_configs (method_id, canonical_json, hash) VALUES ($1, $2, $3) RETURNING id', [
        '00000000-0000-0000-0000-000000000004',
        json,
        name.padEnd(64, '0'),
      ]);
      configIds[name] = rows[0].id;
    }
    const runs: Array<[string, string, string, string]> = [
      ['glob-queued', 'QUEUED', 'glob', 'shapes'],
      ['regex-generating', 'GENERATING', 'regex', 'shapes'],
      ['path-evaluating', 'EVALUATING', 'glob', 'owlvit:/models/owlvit'],
      ['regex-finished', 'FINISHED', 'regex', 'shapes'],
      ['path-failed', 'FAILED', 'baseline', 'coco:/models/yolo.onnx'],
      ['baseline-queued', 'QUEUED', 'baseline', 'yolov8x'],
    ];
    const ids: Record<string, string> = {};
    for (const [name, status, configName, detector] of runs) {
      const { rows } = await client.query(
        `INSERT INTO runs (team_id, kind, status, method_config_id, prompt_set_id, benchmark_id, detector, threshold, seed, images_per_prompt, prompts_total, images_total, chunks_total)
         VALUES ('00000000-0000-0000-0000-000000000001', 'GENERATE_AND_EVALUATE', $1, $2, '00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000002', $3, 0.1, 42, 4, 1, 4, 1) RETURNING id`,
        [status, configIds[configName], detector],
      );
      ids[name] = rows[0].id;
    }

    const applied = await migrate(url);
    assert.deepEqual(applied.applied, [MIGRATION]);

    const { rows } = await client.query(
      'SELECT r.id, r.status, r.error_reason, (SELECT array_agg(e.status::text) FROM run_events e WHERE e.run_id = r.id) AS events FROM runs r',
    );
    const byName = Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, rows.find((r) => r.id === id)]));
    assert.deepEqual(Object.fromEntries(Object.entries(byName).map(([name, r]) => [name, [r.status, r.events]])), {
      'glob-queued': ['QUEUED', null],
      'regex-generating': ['FAILED', ['FAILED']],
      'path-evaluating': ['FAILED', ['FAILED']],
      'regex-finished': ['FINISHED', null],
      'path-failed': ['FAILED', null],
      'baseline-queued': ['QUEUED', null],
    });
    assert.match(
      byName['regex-generating'].error_reason,
      /^its layer patterns include a regular expression, which is no longer accepted; submit it again with dotted-path patterns/,
    );
    assert.equal(
      byName['path-evaluating'].error_reason,
      "its detector 'owlvit:/models/owlvit' is a path on a worker; runs now name detectors from the workers' registry (shapes, or a name in models/detectors.json): submit it again with a name",
    );
    assert.equal(byName['path-failed'].error_reason, null);
  } finally {
    await client.end();
  }
});
