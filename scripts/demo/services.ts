/**
 * The demo's own PostgreSQL and Redis, kept under .demo/ so that a second `npm run demo` finds its
 * data again, and the processes it starts (API, worker, web app) with their logs in .demo/logs/.
 * DATABASE_URL or REDIS_URL in the environment use those servers instead.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { asServerUser, findBinaries, runServerTool } from '../lib/postgres-server.ts';
import { findRedisServer, pings } from '../lib/redis-server.ts';

export interface Service {
  name: string;
  stop(): Promise<void>;
}

/** Whether something already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

export async function requireFreePort(port: number, what: string, variable: string): Promise<void> {
  if (await portInUse(port)) throw new Error(`port ${port} (${what}) is taken; stop what uses it or choose another port with ${variable}=N`);
}

/** The demo's PostgreSQL cluster in `dir`: created on first use, started, and stopped (data kept) by stop(). */
export async function startDemoPostgres(dir: string, port: number): Promise<{ url: string; service: Service }> {
  const bin = findBinaries();
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  mkdirSync(dir, { recursive: true });
  if (userInfo().uid === 0)
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const pgCtl = join(bin, 'pg_ctl');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await runServerTool(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C'], 'initdb');
  }
  const running = (() => {
    const [command, argv] = asServerUser(pgCtl, ['-D', dataDir, 'status']);
    try {
      execFileSync(command, argv, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  // A demo killed without its Ctrl-C handler leaves the server up: it is ours, so use it.
  if (!running) {
    await requireFreePort(port, 'the demo PostgreSQL', 'DEMO_PG_PORT');
    const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c max_connections=100'].join(' ');
    await runServerTool(pgCtl, ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start'], `starting PostgreSQL on port ${port}`, logFile);
  }
  const url = `postgresql://postgres@127.0.0.1:${port}/infsplign`;
  const exists = (() => {
    const [command, argv] = asServerUser(join(bin, 'psql'), [
      '-h',
      dir,
      '-p',
      String(port),
      '-U',
      'postgres',
      '-tAc',
      "SELECT 1 FROM pg_database WHERE datname = 'infsplign'",
    ]);
    return execFileSync(command, argv, { encoding: 'utf8' }).trim() === '1';
  })();
  if (!exists) await runServerTool(join(bin, 'createdb'), ['-h', dir, '-p', String(port), '-U', 'postgres', 'infsplign'], 'createdb infsplign');
  return {
    url,
    service: { name: 'PostgreSQL', stop: () => runServerTool(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop'], 'stopping PostgreSQL', logFile) },
  };
}

/** Asks a Redis server on `port` to shut down (saving its append-only file). */
function shutdownRedis(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('SHUTDOWN\r\n'));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.setTimeout(5000, () => socket.destroy());
  });
}

/** The demo's Redis in `dir`, append-only so that queued work survives a restart of the demo. */
export async function startDemoRedis(dir: string, port: number, logFile: string): Promise<{ url: string; service: Service }> {
  mkdirSync(dir, { recursive: true });
  if (await pings(port)) await shutdownRedis(port); // left over by a demo that was killed
  await requireFreePort(port, 'the demo Redis', 'DEMO_REDIS_PORT');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--daemonize', 'no', '--logfile', logFile];
  const child = spawn(findRedisServer(), args, { stdio: 'ignore', detached: true });
  const deadline = Date.now() + 15_000;
  while (!(await pings(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 15 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, service: { name: 'Redis', stop: () => shutdownRedis(port) } };
}

export interface ProcessService extends Service {
  child: ChildProcess;
  logFile: string;
}

/**
 * A long-running process with stdout and stderr in `logFile`. Its own process group (detached), so
 * that the terminal's Ctrl-C reaches only the demo, which then stops each process in order.
 */
export function startProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
  onUnexpectedExit: (name: string, logFile: string) => void,
): ProcessService {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: join(import.meta.dirname, '../..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  let stopping = false;
  child.once('exit', () => {
    if (!stopping) onUnexpectedExit(name, logFile);
  });
  return {
    name,
    child,
    logFile,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 200 (or the process dies, or the time runs out). */
export async function waitHealthy(url: string, service: ProcessService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.child.exitCode !== null)
      throw new Error(`${service.name} exited with ${service.child.exitCode}; its log ${service.logFile} ends:\n${tail(service.logFile)}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${service.name} did not answer ${url} within ${timeoutMs / 1000} s; its log ${service.logFile} ends:\n${tail(service.logFile)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function tail(file: string, bytes = 2000): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-bytes) : '(no log)';
}
