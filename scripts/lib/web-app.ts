/**
 * The web app as its server (apps/web/server.mjs: Next's handler behind a server that records each
 * request's socket address) serves it: built with `next build` when the build is missing or older
 * than its sources (always, on a fresh clone), then started on a port against a given API, signing
 * the browsers' addresses with the API's WEB_PROXY_SECRET when given one. Used by `npm run web`, the
 * demo and the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const WEB_DIR = join(ROOT, 'apps/web');
const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next');
const BUILD_ID = join(WEB_DIR, '.next/BUILD_ID');
const SERVER = join(WEB_DIR, 'server.mjs');
// The proxy contract is the API's file, bundled into the web app.
const SOURCES = ['src', 'next.config.ts', 'package.json', 'tsconfig.json', '../api/src/proxy-contract.ts'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

const env = () => ({ ...process.env, NEXT_TELEMETRY_DISABLED: '1' });

/**
 * Runs `next build` unless .next holds a build newer than every source file. Throws with the
 * build's output on failure. Asynchronous, so that servers in the calling process keep serving.
 */
export async function ensureWebBuild(): Promise<void> {
  if (existsSync(BUILD_ID) && statSync(BUILD_ID).mtimeMs > Math.max(...SOURCES.map((s) => newestMtime(join(WEB_DIR, s))))) return;
  const build = spawn(process.execPath, [NEXT_BIN, 'build'], { cwd: WEB_DIR, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  build.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  build.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(build, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`next build failed (exit ${code}):\n${output}`);
}

export interface WebApp {
  url: string;
  child: ChildProcess;
  /** what it printed (its last 8 KB) */
  output(): string;
  close(): Promise<void>;
}

/** `webProxySecret`: the API's WEB_PROXY_SECRET (default: this process's), so that it believes the addresses the web app signs. */
export async function startWebApp(apiUrl: string, port: number, host = '127.0.0.1', webProxySecret = process.env.WEB_PROXY_SECRET): Promise<WebApp> {
  const child = spawn(process.execPath, [SERVER], {
    cwd: WEB_DIR,
    env: { ...env(), API_URL: apiUrl, PORT: String(port), HOST: host, ...(webProxySecret ? { WEB_PROXY_SECRET: webProxySecret } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  const url = `http://${host}:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the web app exited with ${child.exitCode}:\n${output}`);
    try {
      await fetch(`${url}/not-a-page`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`the web app did not answer within 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    child,
    output: () => output,
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
