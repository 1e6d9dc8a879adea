/**
 * A throwaway PostgreSQL server for tests: a fresh cluster in a temporary directory, on a free
 * port, with trust authentication for the `postgres` user, removed again by `stop()`.
 *
 * It uses the Debian server binaries (`apt-get install -y postgresql`) and no npm package, so any
 * test can use it. PostgreSQL refuses to run as root; when the tests run as root, the cluster runs
 * as the `postgres` user the Debian package creates. Durability is switched off (fsync, full page
 * writes): the data only has to outlive a test.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { asServerUser, findBinaries, runServerTool } from '../../scripts/lib/postgres-server.ts';
import { freePort } from './free-port.ts';

export interface PostgresServer {
  readonly port: number;
  /** The connection URL of database `dbName` (TCP on 127.0.0.1, user postgres, no password). */
  url(dbName: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and keeps its data: clients see connection errors until `resume()`. */
  pause(): Promise<void>;
  /** Starts a paused server again, on the same port, with the same data. */
  resume(): Promise<void>;
  /** Stops the server and deletes the cluster. */
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findBinaries();
  const root = mkdtempSync(join(tmpdir(), 'infsplign-pg-'));
  if (userInfo().uid === 0)
    chownSync(root, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const port = await freePort();
  const pgCtl = join(bin, 'pg_ctl');
  const serverOptions = [
    `-p ${port}`,
    `-k ${root}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const start = () =>
    runServerTool(pgCtl, ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '30', 'start'], `starting PostgreSQL on port ${port}`, logFile);
  const stopServer = (mode: 'fast' | 'immediate') =>
    runServerTool(pgCtl, ['-D', dataDir, '-m', mode, '-w', 'stop'], `stopping PostgreSQL on port ${port}`, logFile);

  // A test that crashes must not leave a server behind.
  let running = false;
  const onExit = () => {
    if (!running) return;
    const [command, argv] = asServerUser(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']);
    try {
      execFileSync(command, argv, { stdio: 'ignore' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
  process.once('exit', onExit);

  await runServerTool(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], 'initdb');
  await start();
  running = true;

  const url = (dbName: string) => `postgresql://postgres@127.0.0.1:${port}/${encodeURIComponent(dbName)}`;
  return {
    port,
    url,
    async createDatabase(name) {
      await runServerTool(join(bin, 'createdb'), ['-h', root, '-p', String(port), '-U', 'postgres', name], `createdb ${name}`);
      return url(name);
    },
    async pause() {
      await stopServer('fast');
      running = false;
    },
    async resume() {
      await start();
      running = true;
    },
    async stop() {
      if (running) await stopServer('immediate');
      running = false;
      process.removeListener('exit', onExit);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
