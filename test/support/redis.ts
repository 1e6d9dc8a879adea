/**
 * A throwaway Redis server for tests: the Debian `redis-server` (`apt-get install -y redis-server`;
 * npm has no Redis binary) on a free port, its data in a temporary directory, removed by `stop()`.
 *
 * With `appendonly: true` every write goes to the append-only file and is fsynced before Redis
 * answers (`appendfsync always`), so a server killed with SIGKILL and restarted has every write it
 * acknowledged: the durability the platform documents for production Redis. Without it nothing is
 * persisted, and a restart comes back empty.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServer, pings } from '../../scripts/lib/redis-server.ts';
import { freePort } from './free-port.ts';

export interface RedisOptions {
  /** persist every write to the append-only file (fsync always); default false */
  appendonly?: boolean;
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
  /** Sends a signal (SIGKILL: a crash) and waits until the process is gone; the data directory stays. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed server again on the same port; `empty: true` first deletes its data (Redis that lost everything). */
  restart(options?: { empty?: boolean }): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'infsplign-redis-'));
  let child: ChildProcess | null = null;
  let output = '';
  // A test process that ends without stop() must not leave a server behind.
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
    '--logfile',
    '',
  ];

  const launch = async () => {
    output = '';
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', (chunk) => void (output += chunk));
    proc.stderr!.on('data', (chunk) => void (output += chunk));
    const deadline = Date.now() + 10_000;
    while (!(await pings(port))) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`redis-server exited (${proc.exitCode ?? proc.signalCode}):\n${output.slice(-2000)}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server did not answer on port ${port} within 10 s:\n${output.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const proc = child;
    if (!proc) return;
    proc.kill(signal);
    await exited(proc);
    child = null;
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    async restart({ empty = false } = {}) {
      if (child) throw new Error('restart() needs the server stopped first (kill())');
      if (empty) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir); // redis-server needs its --dir to exist
      }
      await launch();
    },
    async stop() {
      await kill('SIGTERM');
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
