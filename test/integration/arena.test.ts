/**
 * `npm run arena` on a 12-prompt slice (CI's): the command as a user runs it, against a throwaway
 * PostgreSQL and Redis (DATABASE_URL, REDIS_URL), with its own API and worker processes. Every
 * registered method must appear in the eval table, each guided one tuned over its grid (three tune
 * rows, one picked, the eval row at the pick); the table's columns are the README's. Also: the pick's
 * rule, a guided method without a grid refused by name, bad options refused before anything starts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registeredMethods } from '@infsplign/workers/methods';
import { entrants, pickStrength } from '../../scripts/arena/plan.ts';
import { EVAL_COLUMNS, TUNE_COLUMNS } from '../../scripts/arena/report.ts';
import { freePort } from '../support/free-port.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const LIMIT = 12;

function npmArena(args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['run', '--silent', 'arena', '--', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const { code, killed, signal } = (err ?? {}) as { code?: unknown; killed?: boolean; signal?: string | null };
        // Past the time limit execFile kills it: say so, since the arena itself printed nothing about it.
        const why = killed ? `\n(stopped with ${signal} after the test's limit of ${timeoutMs / 1000} s)` : '';
        done({ code: err ? (typeof code === 'number' ? code : 1) : 0, stdout, stderr: stderr + why });
      },
    );
  });
}

/** The Markdown table under `heading` (the first table after it): header cells and row cells. */
function tableAfter(markdown: string, heading: RegExp): { columns: string[]; rows: string[][] } {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  assert.ok(start >= 0, `no ${heading} in:\n${markdown}`);
  const first = lines.findIndex((l, i) => i > start && l.startsWith('|'));
  const block: string[] = [];
  for (let i = first; i < lines.length && lines[i]!.startsWith('|'); i++) block.push(lines[i]!);
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  assert.match(block[1]!, /^\|( (:--|--:) \|)+$/, 'the second line is the alignment row');
  return { columns: cells(block[0]!), rows: block.slice(2).map(cells) };
}

const INTERVAL = /^\d+\.\d \[\d+\.\d, \d+\.\d\]$/;

describe('the arena (npm run arena)', () => {
  test('the pick: highest VISOR_cond, ties to the weaker strength, undefined figures skipped', () => {
    assert.equal(
      pickStrength('m', [
        { value: 10, visorCond: 40 },
        { value: 20, visorCond: 55 },
        { value: 40, visorCond: 50 },
      ]),
      20,
    );
    assert.equal(
      pickStrength('m', [
        { value: 10, visorCond: 55 },
        { value: 20, visorCond: 55 },
        { value: 40, visorCond: 50 },
      ]),
      10,
    );
    assert.equal(
      pickStrength('m', [
        { value: 10, visorCond: null },
        { value: 20, visorCond: 0 },
        { value: 40, visorCond: null },
      ]),
      20,
    );
    assert.throws(() => pickStrength('m', [{ value: 10, visorCond: null }]), /method m: no tune run has a VISOR_cond/);
  });

  test('every registered method enters; a guided method without a grid is refused by name', () => {
    const methods = registeredMethods();
    assert.deepEqual(
      entrants(methods).map((e) => e.method),
      methods.map((m) => m.name),
    );
    const guided = methods.find((m) => m.guidance && m.name !== 'infsplign')!;
    const { arena: _grid, ...withoutGrid } = guided;
    assert.throws(() => entrants(methods.map((m) => (m === guided ? withoutGrid : m))), new RegExp(`method ${guided.name} declares no arena strength`));
    assert.throws(() => entrants(methods.filter((m) => m.name !== 'baseline')), /compares every method with 'baseline'/);
  });

  test('bad options are refused before anything starts (exit 2, no output file)', async () => {
    const out = join(tmpdir(), `arena-refused-${process.pid}.md`);
    const result = await npmArena(['--limit', '0', '--out', out], {}, 60_000);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--limit must be a positive integer/);
    assert.equal(existsSync(out), false);
  });

  describe(`a ${LIMIT}-prompt slice through the platform`, () => {
    let pg: PostgresServer;
    let redis: RedisServer;
    let state: string;
    let run: { code: number; stdout: string; stderr: string };
    let markdown: string;

    before(async () => {
      [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
      state = mkdtempSync(join(tmpdir(), 'arena-'));
      const env = {
        DATABASE_URL: await pg.createDatabase('arena'),
        REDIS_URL: redis.url,
        ARENA_STATE: state,
        ARENA_API_PORT: String(await freePort()),
        ARENA_WORKER_HEALTH_PORT: String(await freePort()),
      };
      run = await npmArena(['--limit', String(LIMIT), '--images-per-prompt', '1', '--out', join(state, 'table.md')], env, 900_000);
      markdown = existsSync(join(state, 'table.md')) ? readFileSync(join(state, 'table.md'), 'utf8') : '';
    });
    after(async () => {
      await Promise.all([pg?.stop(), redis?.stop()]);
      if (state) rmSync(state, { recursive: true, force: true });
    });

    test('exits 0, prints the table it writes, and a line per finished run', () => {
      assert.equal(run.code, 0, `arena exited ${run.code}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
      assert.ok(run.stdout.includes(markdown.trim()), 'stdout holds the written Markdown');
      const guided = entrants().filter((e) => e.tuning);
      const finished = run.stdout.split('\n').filter((l) => /^\[\d+ min \d\d s\] finished /.test(l));
      assert.equal(finished.length, guided.length * 3 + guided.length + 1, finished.join('\n'));
    });

    test("the eval table: the README's columns, every registered method once, at its pick, with the paired tests", () => {
      const { columns, rows } = tableAfter(markdown, /^## Arena/);
      assert.deepEqual(columns, EVAL_COLUMNS);
      const col = (name: string) => columns.indexOf(name);
      assert.deepEqual(
        rows.map((r) => r[col('method')]).sort(),
        registeredMethods()
          .map((m) => m.name)
          .sort(),
      );
      assert.deepEqual(
        rows.map((r) => Number(r[col('#')])),
        rows.map((_, i) => i + 1),
      );
      const tune = tableAfter(markdown, /^### Tuning/);
      for (const row of rows) {
        const method = row[col('method')]!;
        for (const metric of ['OA', 'VISOR_cond', 'VISOR_uncond', 'VISOR_1']) assert.match(row[col(metric)]!, INTERVAL, `${method} ${metric}`);
        // one image per prompt: VISOR_2..4 cannot be reached
        for (const metric of ['VISOR_2', 'VISOR_3', 'VISOR_4']) assert.equal(row[col(metric)], 'n/a', `${method} ${metric}`);
        const versus = (other: string) => row[col(`Δ VISOR_cond vs ${other}`)]!;
        if (method === 'baseline') {
          assert.equal(row[col('strength')], '—');
          assert.equal(versus('baseline'), '—');
        } else {
          const picked = tune.rows.filter((t) => t[0] === method && t[6] === 'yes');
          assert.equal(picked.length, 1, `${method}: one picked strength`);
          assert.equal(row[col('strength')], picked[0]![1], `${method} runs at its pick on the eval split`);
          assert.match(versus('baseline'), /^[+-]\d+\.\d \[-?\d+\.\d, -?\d+\.\d\], (bootstrap|mcnemar) p (= \d\.\d{3}|< 0\.001)$/);
        }
        if (method === 'infsplign') assert.equal(versus('infsplign'), '—');
        else assert.match(versus('infsplign'), /^[+-]\d+\.\d \[/);
      }
      assert.match(markdown, new RegExp(`Eval split: ${LIMIT} prompts x 1 images, seed 42`));
    });

    test('the tuning table: each guided method over its whole grid on the tune split', () => {
      const { columns, rows } = tableAfter(markdown, /^### Tuning/);
      assert.deepEqual(columns, TUNE_COLUMNS);
      for (const entrant of entrants().filter((e) => e.tuning)) {
        const mine = rows.filter((r) => r[0] === entrant.method);
        assert.deepEqual(
          mine.map((r) => r[1]),
          entrant.tuning!.grid.map((v) => `${entrant.tuning!.strength} = ${v}`),
        );
        for (const r of mine) assert.match(r[2]!, INTERVAL, `${entrant.method} ${r[1]} VISOR_cond`);
        // the pick is the highest VISOR_cond, the first of equals
        const scores = mine.map((r) => Number(r[2]!.split(' ')[0]));
        assert.equal(
          mine.findIndex((r) => r[6] === 'yes'),
          scores.indexOf(Math.max(...scores)),
          entrant.method,
        );
      }
    });
  });
});
