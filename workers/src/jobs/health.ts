/**
 * The worker's health endpoints for an orchestrator: `/healthz` answers while the process's event
 * loop does (the compute runs in threads, so a busy worker still answers); `/readyz` answers 200
 * only while the worker takes jobs (Redis reachable, queues running, not shutting down).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(port: number, host: string, status: () => { ready: boolean; activeJobs: number }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const reply = (code: number, body: object) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return reply(405, { error: 'GET only' });
    if (path === '/healthz') return reply(200, { status: 'ok' });
    if (path === '/readyz') {
      const { ready, activeJobs } = status();
      return reply(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', activeJobs });
    }
    reply(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // idle keep-alive probes would hold close() open
      }),
  };
}
