/** The security settings main.ts reads from the environment: WEB_ORIGIN, the rate limits, introspection and the proxy's signed address. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_WEB_ORIGINS, webOriginsFromEnv } from '../../src/cors.ts';
import { introspectionFromEnv, MAX_COST } from '../../src/graphql/limits.ts';
import { DEFAULT_RATE_LIMITS, rateLimitEnvSchema, rateLimitsFromEnv } from '../../src/graphql/rate-limit.ts';
import { signClientAddress, SIGNATURE_MAX_AGE_MS, verifyClientAddress } from '../../src/proxy-contract.ts';

test('WEB_ORIGIN: the web app on 127.0.0.1 and localhost by default; a list of origins; anything else is refused', () => {
  assert.deepEqual(webOriginsFromEnv(undefined), [...DEFAULT_WEB_ORIGINS]);
  assert.deepEqual(webOriginsFromEnv(' '), ['http://127.0.0.1:3000', 'http://localhost:3000']);
  assert.deepEqual(webOriginsFromEnv('https://arena.example, http://10.0.0.5:8080/'), ['https://arena.example', 'http://10.0.0.5:8080']);
  for (const bad of ['arena.example', 'https://arena.example/app', '*', 'ftp://arena.example', 'https://arena.example,']) {
    assert.throws(() => webOriginsFromEnv(bad), /WEB_ORIGIN/, bad);
  }
});

test('RATE_LIMIT_*: defaults, 0 for no limit, and no query budget below what one allowed query costs', () => {
  assert.deepEqual(rateLimitsFromEnv(rateLimitEnvSchema.parse({})), DEFAULT_RATE_LIMITS);
  const off = {
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
    RATE_LIMIT_TEAM_MUTATIONS_PER_MINUTE: '0',
    RATE_LIMIT_QUERY_COST_PER_MINUTE: '0',
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '0',
  };
  assert.deepEqual(rateLimitsFromEnv(rateLimitEnvSchema.parse(off)), {
    mutationsPerMinute: 0,
    teamMutationsPerMinute: 0,
    queryCostPerMinute: 0,
    authFailuresPerMinute: 0,
  });
  assert.equal(rateLimitEnvSchema.parse({ RATE_LIMIT_QUERY_COST_PER_MINUTE: String(MAX_COST) }).RATE_LIMIT_QUERY_COST_PER_MINUTE, MAX_COST);
  for (const bad of [
    { RATE_LIMIT_MUTATIONS_PER_MINUTE: '-1' },
    { RATE_LIMIT_MUTATIONS_PER_MINUTE: 'many' },
    { RATE_LIMIT_QUERY_COST_PER_MINUTE: String(MAX_COST - 1) },
  ]) {
    assert.equal(rateLimitEnvSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});

test('GRAPHQL_INTROSPECTION decides; unset, introspection is off only under NODE_ENV=production', () => {
  assert.equal(introspectionFromEnv(undefined, undefined), true);
  assert.equal(introspectionFromEnv('development', undefined), true);
  assert.equal(introspectionFromEnv('production', undefined), false);
  assert.equal(introspectionFromEnv('production', '1'), true);
  assert.equal(introspectionFromEnv('development', '0'), false);
});

test('the signed client address: holds under its secret while fresh; another secret, an edit or age breaks it', () => {
  const secret = 's'.repeat(40);
  const now = 1_800_000_000_000;
  for (const address of ['203.0.113.7', '::ffff:127.0.0.1', '2001:db8::1'])
    assert.equal(verifyClientAddress(secret, signClientAddress(secret, address, now), now), address);
  const header = signClientAddress(secret, '203.0.113.7', now);
  assert.equal(verifyClientAddress('t'.repeat(40), header, now), null, 'another secret');
  assert.equal(verifyClientAddress(secret, header.replace('203.0.113.7', '203.0.113.8'), now), null, 'another address');
  assert.equal(verifyClientAddress(secret, header, now + SIGNATURE_MAX_AGE_MS + 1), null, 'stale');
  for (const junk of ['', ';;', '203.0.113.7', '203.0.113.7;1;', 'a b;1;x', `${header};x`]) assert.equal(verifyClientAddress(secret, junk, now), null, junk);
});
