/**
 * The worker's health endpoints for an orchestrator: `/healthz` answers while the process's event
 * loop does (the compute runs in threads, so a busy worker still answers); `/readyz` answers 200
 * only while the worker takes jobs (Redis reachable, queues running, not shutting down); `/metrics`
 * gives the worker's Prometheus metrics (metrics.ts), on the same port so that one port is scraped and probed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(
  port: number,
  host: string,
  status: () => { ready: boolean; activeJobs: number },
  metrics?: Registry,
): Promise<HealthServer> {
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
    if (path === '/metrics' && metrics) {
      metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
        (err: Error) => reply(500, { error: err.message }),
      );
      return;
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
