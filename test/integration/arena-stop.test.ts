/**
 * `npm run arena` stopped with a SIGTERM to npm (a CI time limit, kill): npm runs it through sh, which
 * dies of the signal without passing it on, so the launcher (scripts/lib/launch-platform-script.mjs)
 * notices that whoever started it is gone and the arena stops the API and the worker it started.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../support/free-port.ts';
import { startPostgres } from '../support/postgres.ts';
import { startRedis } from '../support/redis.ts';

const ROOT = resolve(import.meta.dirname, '../..');

test('SIGTERM to npm run arena stops the API and the worker it started', async () => {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  const state = mkdtempSync(join(tmpdir(), 'arena-stopped-'));
  const [apiPort, workerPort] = [await freePort(), await freePort()];
  try {
    const env = {
      ...process.env,
      DATABASE_URL: await pg.createDatabase('arena_stopped'),
      REDIS_URL: redis.url,
      ARENA_STATE: state,
      ARENA_API_PORT: String(apiPort),
      ARENA_WORKER_HEALTH_PORT: String(workerPort),
    };
    const arena = spawn('npm', ['run', '--silent', 'arena', '--', '--limit', '1', '--images-per-prompt', '1'], { cwd: ROOT, env });
    let stdout = '';
    arena.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    arena.stderr.resume();
    const exited = once(arena, 'exit');
    const deadline = Date.now() + 180_000;
    while (!stdout.includes('submitted ')) {
      assert.ok(Date.now() < deadline && arena.exitCode === null, `no run submitted:\n${stdout.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const answers = async (port: number) =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => true,
        () => false,
      );
    assert.ok((await answers(apiPort)) && (await answers(workerPort)), 'the API and the worker are up');
    arena.kill('SIGTERM');
    // npm ends by the signal, which it raises again once its shell is gone (or by the script's code for it, 143).
    const [code, signal] = await exited;
    assert.ok(code === 143 || signal === 'SIGTERM', `npm ended with ${code ?? signal}:\n${stdout.slice(-2000)}`);
    // npm is gone at once (its shell dies of the signal); the launcher sees it and the arena stops what it started.
    const stopBy = Date.now() + 60_000;
    while ((await answers(apiPort)) || (await answers(workerPort))) {
      assert.ok(Date.now() < stopBy, 'the API or the worker still answers a minute after npm was stopped');
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await Promise.all([pg.stop(), redis.stop()]);
    rmSync(state, { recursive: true, force: true });
  }
});
