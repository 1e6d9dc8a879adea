/**
 * The worker as the separate OS process `npm run worker` starts (the same command line, without npm
 * in between, so that signals reach the worker itself), with its JSON log lines collected so that a
 * test can wait for one. `stopAll()` kills whatever is still running (for `after` hooks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export type LogLine = Record<string, unknown>;

export interface WorkerProcess {
  child: ChildProcess;
  /** hostname:pid, as its results name it */
  name: string;
  logs: LogLine[];
  /** The first log line with this message (and, if given, fields equal to `fields`'), waiting for it. */
  waitForLog(msg: string, fields?: LogLine, timeoutMs?: number): Promise<LogLine>;
  /** what it wrote to stderr (its last 4 KB) */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGKILL and waits until it is gone. */
  kill(): Promise<void>;
}

export interface WorkerOptions {
  redisUrl: string;
  artifactDir: string;
  queues?: string;
  concurrency?: number;
  /** more environment (WORKER_LOCK_DURATION_MS, WORKER_SHUTDOWN_GRACE_MS, ...) */
  env?: Record<string, string>;
}

const started = new Set<WorkerProcess>();

// A test process that dies without its after hook must not leave workers behind.
process.on('exit', () => {
  for (const w of started) w.child.kill('SIGKILL');
});

const matches = (line: LogLine, msg: string, fields: LogLine) => line.msg === msg && Object.entries(fields).every(([k, v]) => line[k] === v);

export function startWorkerProcess(options: WorkerOptions): WorkerProcess {
  const args = [
    '--import',
    'tsx',
    'workers/src/jobs/worker-main.ts',
    '--queues',
    options.queues ?? 'evaluate',
    '--concurrency',
    String(options.concurrency ?? 1),
    '--device',
    'cpu',
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: options.redisUrl, ARTIFACT_DIR: options.artifactDir, WORKER_HEALTH_PORT: '0', LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4096)));
  // 'close', not 'exit': by then every line it wrote has been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('close', (code, signal) => done({ code, signal })));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const w of waiters) w();
  });
  const worker: WorkerProcess = {
    child,
    name: `${hostname()}:${child.pid}`,
    logs,
    exited,
    stderr: () => stderr,
    waitForLog: (msg, fields = {}, timeoutMs = 45_000) =>
      new Promise((found, fail) => {
        const finish = (error: Error | null, line?: LogLine) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) fail(error);
          else found(line!);
        };
        const check = () => {
          const line = logs.find((l) => matches(l, msg, fields));
          if (line) finish(null, line);
          else if (gone) finish(new Error(`worker ${child.pid} exited before logging '${msg}'; stderr: ${stderr.slice(-1000)}`));
        };
        const timer = setTimeout(
          () =>
            finish(
              new Error(
                `worker ${child.pid}: no log '${msg}' ${JSON.stringify(fields)} within ${timeoutMs} ms; logs: ${JSON.stringify(logs).slice(-1500)}; stderr: ${stderr.slice(-1000)}`,
              ),
            ),
          timeoutMs,
        );
        waiters.add(check);
        check();
      }),
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
  started.add(worker);
  void exited.then(() => started.delete(worker));
  return worker;
}

/** Kills every worker process started here that is still running. */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...started].map((w) => w.kill()));
}
