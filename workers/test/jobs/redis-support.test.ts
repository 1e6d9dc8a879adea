/** test/support/redis.ts, which the integration and fault tests rely on to crash and restart Redis. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis } from '../../../test/support/redis.ts';

async function withClient<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {}); // a refused connection fails the command, which is what the test looks at
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

describe('startRedis', () => {
  test('with appendonly, every acknowledged write survives SIGKILL and restart; restart({empty}) loses everything', async () => {
    const redis = await startRedis({ appendonly: true });
    try {
      await withClient(redis.url, (c) => c.set('k', 'v'));
      await redis.kill('SIGKILL');
      await redis.restart();
      assert.equal(await withClient(redis.url, (c) => c.get('k')), 'v');
      await redis.kill('SIGKILL');
      await redis.restart({ empty: true });
      assert.equal(await withClient(redis.url, (c) => c.get('k')), null);
    } finally {
      await redis.stop();
    }
  });

  test('without appendonly nothing persists, and a restart comes back empty on the same port', async () => {
    const redis = await startRedis();
    try {
      await withClient(redis.url, (c) => c.set('k', 'v'));
      await redis.kill('SIGKILL');
      await assert.rejects(withClient(redis.url, (c) => c.ping()));
      await redis.restart();
      assert.equal(await withClient(redis.url, (c) => c.get('k')), null);
      assert.match(redis.url, new RegExp(`:${redis.port}$`));
    } finally {
      await redis.stop();
    }
  });
});
