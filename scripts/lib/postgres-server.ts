/**
 * The Debian PostgreSQL server binaries, run as the `postgres` user when we are root (PostgreSQL
 * refuses to run as root). Shared by the tests' throwaway servers and the demo's persistent one.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the server binaries are: $PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
export function findBinaries(): string {
  const override = process.env.PG_BIN;
  const candidates = override ? [override] : listDebianBinDirs();
  const dir = candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (!dir) {
    const looked = override ? `PG_BIN=${override}` : '/usr/lib/postgresql/*/bin';
    throw new Error(
      `PostgreSQL server binaries (initdb, pg_ctl) not found in ${looked}: install the Debian package 'postgresql' (apt-get install -y postgresql)`,
    );
  }
  return dir;
}

function listDebianBinDirs(): string[] {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(base, v, 'bin'));
}

/** Runs a server binary, as the postgres user when we are root. */
export function asServerUser(binary: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
}

export async function runServerTool(binary: string, args: string[], what: string, logFile?: string): Promise<void> {
  const [command, argv] = asServerUser(binary, args);
  try {
    await run(command, argv, { timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const log = logFile && existsSync(logFile) ? `\nserver log:\n${readFileSync(logFile, 'utf8').slice(-2000)}` : '';
    throw new Error(`${what} failed: ${e.stderr?.trim() || e.message}${log}`, { cause: err });
  }
}
