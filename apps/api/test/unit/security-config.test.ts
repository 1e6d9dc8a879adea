/** The security settings main.ts reads from the environment: WEB_ORIGIN and the rate limits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_WEB_ORIGINS, webOriginsFromEnv } from '../../src/cors.ts';
import { MAX_COST } from '../../src/graphql/limits.ts';
import { DEFAULT_RATE_LIMITS, rateLimitEnvSchema } from '../../src/graphql/rate-limit.ts';

test('WEB_ORIGIN: the web app on 127.0.0.1 and localhost by default; a list of origins; anything else is refused', () => {
  assert.deepEqual(webOriginsFromEnv(undefined), [...DEFAULT_WEB_ORIGINS]);
  assert.deepEqual(webOriginsFromEnv(' '), ['http://127.0.0.1:3000', 'http://localhost:3000']);
  assert.deepEqual(webOriginsFromEnv('https://arena.example, http://10.0.0.5:8080/'), ['https://arena.example', 'http://10.0.0.5:8080']);
  for (const bad of ['arena.example', 'https://arena.example/app', '*', 'ftp://arena.example', 'https://arena.example,']) {
    assert.throws(() => webOriginsFromEnv(bad), /WEB_ORIGIN/, bad);
  }
});

test('RATE_LIMIT_*: defaults, 0 for no limit, and no query budget below what one allowed query costs', () => {
  assert.deepEqual(rateLimitEnvSchema.parse({}), { RATE_LIMIT_MUTATIONS_PER_MINUTE: DEFAULT_RATE_LIMITS.mutationsPerMinute, RATE_LIMIT_QUERY_COST_PER_MINUTE: DEFAULT_RATE_LIMITS.queryCostPerMinute });
  assert.deepEqual(rateLimitEnvSchema.parse({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '0', RATE_LIMIT_QUERY_COST_PER_MINUTE: '0' }), { RATE_LIMIT_MUTATIONS_PER_MINUTE: 0, RATE_LIMIT_QUERY_COST_PER_MINUTE: 0 });
  assert.equal(rateLimitEnvSchema.parse({ RATE_LIMIT_QUERY_COST_PER_MINUTE: String(MAX_COST) }).RATE_LIMIT_QUERY_COST_PER_MINUTE, MAX_COST);
  for (const bad of [{ RATE_LIMIT_MUTATIONS_PER_MINUTE: '-1' }, { RATE_LIMIT_MUTATIONS_PER_MINUTE: 'many' }, { RATE_LIMIT_QUERY_COST_PER_MINUTE: String(MAX_COST - 1) }]) {
    assert.equal(rateLimitEnvSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});
