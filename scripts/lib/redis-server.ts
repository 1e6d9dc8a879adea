/** The Debian redis-server binary and a PING that tells when a started server answers. */
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';

/** $REDIS_SERVER, else redis-server on the PATH or in /usr/bin. */
export function findRedisServer(): string {
  const override = process.env.REDIS_SERVER;
  if (override) return override;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/usr/sbin'];
  const found = dirs.map((d) => join(d, 'redis-server')).find((p) => existsSync(p));
  if (!found)
    throw new Error(
      'redis-server not found: install the Debian package redis-server (scripts/install-system-deps.sh, as root), or set REDIS_SERVER to its path',
    );
  return found;
}

/** Whether the server answers PING; Redis loading its append-only file answers -LOADING instead. */
export function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
