/**
 * The API's protections, each checked over HTTP against real PostgreSQL and Redis: every mutation
 * needs a token and refuses another team's things without writing; the database holds no token
 * (attacks.test.ts has issue 14's attacks on availability and their bounds);
 * rate limits shared by API processes through Redis; CORS only for the web app's origins; artifact
 * keys that could leave the store; and no token in the log of everything this file does.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import { pino } from 'pino';
import { createApiServer, type ApiServer } from '../src/server.ts';
import { startHarness, type GraphQLResponse, type Harness } from './support/harness.ts';
import { SHAPES_EVAL } from './support/stand-in-worker.ts';

/** Everything the API logs, at every level, for the last test. */
const logged: string[] = [];
const logger = pino(
  { level: 'trace' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(chunk.toString());
      done();
    },
  }),
);
/** Tokens made while the file runs: none may show up in the log. */
const tokensSeen: string[] = [];

let h: Harness;

before(async () => {
  h = await startHarness('security', { logger });
  tokensSeen.push(h.tokens.alpha, h.tokens.beta);
});

after(async () => {
  await h?.close();
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<GraphQLResponse & { headers: Headers }> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, ...((await response.json()) as Omit<GraphQLResponse, 'status'>) };
}

/** What a refused mutation must leave as it was: every table's row count, and the queues' jobs. */
async function snapshot() {
  const p = h.prisma;
  const [runs, events, imageSets, tokens, teams, configs, scores, uploads] = await Promise.all([
    p.run.count(),
    p.runEvent.count(),
    p.imageSet.count(),
    p.apiToken.count(),
    p.team.count(),
    p.methodConfig.count(),
    p.imageScore.count(),
    p.upload.count(),
  ]);
  const revoked = await p.apiToken.count({ where: { revokedAt: { not: null } } });
  const queues = h.api.services.queues;
  const jobs = await Promise.all([queues.generate.getJobCounts(), queues.evaluate.getJobCounts()]);
  return { runs, events, imageSets, tokens, revoked, teams, configs, scores, uploads, jobs };
}

test("every mutation: no token or a bad one is UNAUTHENTICATED, another team on alpha's things is refused, and nothing is written", async () => {
  // Alpha's things: an uploaded image set, a FINISHED EVALUATE_ONLY run over it, a token, an upload not registered yet.
  const ids = SHAPES_EVAL.prompts
    .filter((p) => p.relation !== null)
    .slice(0, 2)
    .map((p) => p.id);
  const prefix = await h.upload(h.tokens.alpha, Object.fromEntries(ids.map((id) => [`${id}_0.png`, new Uint8Array([137, 80, 78, 71])])));
  const pending = await h.upload(h.tokens.alpha, Object.fromEntries(ids.map((id) => [`${id}_0.png`, new Uint8Array([137, 80, 78, 71])])));
  const alphaToken = (await h.prisma.apiToken.findFirstOrThrow({ where: { team: { name: 'alpha' } } })).id;
  const set = await h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }', { prefix }, h.tokens.alpha);
  assert.equal(set.errors, undefined, JSON.stringify(set.errors));
  const imageSet = set.data!.registerImageSet.id as string;
  const evaluate = { kind: 'EVALUATE_ONLY', benchmark: 'visor-shapes', promptSet: 'eval', imageSet, detector: 'shapes' };
  const submitted = await h.gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }', { input: evaluate }, h.tokens.alpha);
  assert.equal(submitted.errors, undefined, JSON.stringify(submitted.errors));
  const runId = submitted.data!.submitRun.run.id as string;
  await h.prisma.run.update({ where: { id: runId }, data: { status: 'FINISHED', finishedAt: new Date() } });

  // `asOtherTeam`: what team beta gets when it aims the mutation at alpha's things; null where the
  // mutation has nothing of another team's to aim at (createApiToken and createUpload act for the caller's own team).
  const table: Record<string, { query: string; variables: Record<string, unknown>; asOtherTeam: string | null }> = {
    submitRun: {
      query: 'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }',
      variables: { input: evaluate },
      asOtherTeam: 'FORBIDDEN',
    },
    createUpload: { query: 'mutation { createUpload { prefix } }', variables: {}, asOtherTeam: null },
    // The prefix createUpload gave alpha, not registered yet: only alpha may register it.
    registerImageSet: {
      query: 'mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }',
      variables: { prefix: pending },
      asOtherTeam: 'FORBIDDEN',
    },
    cancelRun: { query: 'mutation ($id: ID!) { cancelRun(id: $id) { id } }', variables: { id: runId }, asOtherTeam: 'FORBIDDEN' },
    retryRun: { query: 'mutation ($id: ID!) { retryRun(id: $id) { id } }', variables: { id: runId }, asOtherTeam: 'FORBIDDEN' },
    // A rescore is a new run of the caller's; of images another team uploaded it is refused.
    rescoreRun: { query: 'mutation ($id: ID!) { rescoreRun(runId: $id, threshold: 0.25) { run { id } } }', variables: { id: runId }, asOtherTeam: 'FORBIDDEN' },
    deleteRun: { query: 'mutation ($id: ID!) { deleteRun(id: $id) { id } }', variables: { id: runId }, asOtherTeam: 'FORBIDDEN' },
    createApiToken: { query: 'mutation ($name: String!) { createApiToken(name: $name) { token } }', variables: { name: 'stolen' }, asOtherTeam: null },
    // Another team's token is answered as one that does not exist.
    revokeApiToken: { query: 'mutation ($id: ID!) { revokeApiToken(id: $id) { id } }', variables: { id: alphaToken }, asOtherTeam: 'NOT_FOUND' },
  };
  const schema = await h.gql('{ __schema { mutationType { fields { name } } } }');
  assert.deepEqual(
    Object.keys(table).sort(),
    schema.data!.__schema.mutationType.fields.map((f: { name: string }) => f.name).sort(),
    'a row for every mutation of the schema',
  );

  const before = await snapshot();
  const runBefore = await h.prisma.run.findUniqueOrThrow({ where: { id: runId } });
  const wrongSecret = h.tokens.alpha.slice(0, -1) + (h.tokens.alpha.at(-1) === 'A' ? 'B' : 'A');
  for (const [mutation, { query, variables, asOtherTeam }] of Object.entries(table)) {
    for (const [who, token] of [
      ['no token', undefined],
      ['a malformed token', 'not-a-token'],
      ["alpha's token with a wrong secret", wrongSecret],
    ] as const) {
      const answer = await h.gql(query, variables, token);
      assert.equal(answer.errors?.[0].extensions?.code, 'UNAUTHENTICATED', `${mutation} with ${who}: ${JSON.stringify(answer.errors)}`);
      assert.equal(answer.data ?? null, null, `${mutation} with ${who}`);
    }
    if (asOtherTeam) {
      const answer = await h.gql(query, variables, h.tokens.beta);
      assert.equal(answer.errors?.[0].extensions?.code, asOtherTeam, `${mutation} by team beta: ${JSON.stringify(answer.errors)}`);
    }
    assert.deepEqual(await snapshot(), before, `${mutation} wrote something`);
  }
  assert.deepEqual(await h.prisma.run.findUniqueOrThrow({ where: { id: runId } }), runBefore);
  assert.equal((await h.prisma.imageSet.findUniqueOrThrow({ where: { id: imageSet } })).teamId, runBefore.teamId);
});

test('the database never holds a token: after createApiToken no column of any table contains it or its secret', async () => {
  const created = await h.gql('mutation { createApiToken(name: "scan") { token } }', {}, h.tokens.alpha);
  const token = created.data!.createApiToken.token as string;
  tokensSeen.push(token);
  const secret = token.split('_').slice(2).join('_');
  const tables = await h.prisma.$queryRaw<{ name: string }[]>`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`;
  assert.ok(
    tables.some((t) => t.name === 'api_tokens'),
    tables.map((t) => t.name).join(', '),
  );
  for (const { name } of tables) {
    // Each row as text: every column of every table, whatever its type.
    const hits = await h.prisma.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}" AS t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0`,
      token,
      secret,
    );
    assert.equal(Number(hits[0].n), 0, `table ${name} holds the token`);
  }
  // The secret is not even in a form Postgres would write out, e.g. base64 of its bytes.
  const hashes = await h.prisma.apiToken.findMany({ select: { secretHash: true } });
  for (const { secretHash } of hashes) assert.match(secretHash, /^sha256\$[0-9a-f]{64}$/);
});

test('rate limits: mutations and query cost per token or address, shared by two API processes through Redis, refused with RATE_LIMITED and 429', async () => {
  // A fixed window of a minute: start well inside one, so that no reset falls in the middle.
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((r) => setTimeout(r, left + 100));
  // The harness's API charged the same budgets (same Redis, same address) in the tests above.
  const { redis } = h.api.services;
  const spent = await redis.keys('infsplign:ratelimit:*');
  if (spent.length > 0) await redis.del(...spent);
  const limited = { mutationsPerMinute: 3, queryCostPerMinute: 40 };
  const start = () =>
    createApiServer({
      databaseUrl: h.databaseUrl,
      redisUrl: h.redis.url,
      artifactDir: h.artifactDir,
      port: 0,
      logger,
      sweepIntervalMs: 0,
      reconcileIntervalMs: 0,
      rateLimits: limited,
    });
  const apis: ApiServer[] = [await start(), await start()];
  try {
    const mutation = { query: 'mutation ($id: ID!) { cancelRun(id: $id) { id } }', variables: { id: '00000000-0000-4000-8000-000000000000' } };
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    // Three for alpha, across both processes, then the fourth is refused before its resolver runs.
    for (const i of [0, 1, 2]) assert.equal((await post(apis[i % 2].url, mutation, auth(h.tokens.alpha))).errors?.[0].extensions?.code, 'NOT_FOUND');
    const refused = await post(apis[1].url, mutation, auth(h.tokens.alpha));
    assert.equal(refused.status, 429);
    assert.equal(refused.errors?.[0].extensions?.code, 'RATE_LIMITED');
    const retryAfter = (refused.errors![0].extensions as { retryAfterSeconds?: number }).retryAfterSeconds!;
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    assert.equal(refused.headers.get('retry-after'), String(retryAfter));
    // Two mutation fields in one operation count as two.
    const twoInOne = await post(
      apis[0].url,
      { query: 'mutation { a: createApiToken(name: "a") { id } b: createApiToken(name: "b") { id } }' },
      auth(h.tokens.beta),
    );
    assert.equal(twoInOne.errors, undefined, JSON.stringify(twoInOne.errors));
    assert.equal((await post(apis[0].url, mutation, auth(h.tokens.beta))).errors?.[0].extensions?.code, 'NOT_FOUND');
    assert.equal((await post(apis[1].url, mutation, auth(h.tokens.beta))).errors?.[0].extensions?.code, 'RATE_LIMITED');
    // Without a valid token the client address pays, whatever token it makes up.
    for (const i of [0, 1, 2]) assert.equal((await post(apis[i % 2].url, mutation)).errors?.[0].extensions?.code, 'UNAUTHENTICATED');
    for (const token of ['isa_000000000000_' + 'x'.repeat(43), 'isa_111111111111_' + 'y'.repeat(43)]) {
      assert.equal((await post(apis[0].url, mutation, auth(token))).errors?.[0].extensions?.code, 'RATE_LIMITED', 'a made-up token opens no new budget');
    }

    // Queries pay their cost: `models { name }` costs 1 + 10 x 1.
    const cheap = { query: '{ models { name } }' };
    for (const i of [0, 1, 2]) assert.equal((await post(apis[i % 2].url, cheap)).errors, undefined);
    const overBudget = await post(apis[1].url, cheap);
    assert.equal(overBudget.status, 429);
    assert.equal(overBudget.errors?.[0].extensions?.code, 'RATE_LIMITED');
    assert.equal(overBudget.data ?? null, null);
    // A token's queries are its own budget.
    assert.equal((await post(apis[0].url, cheap, auth(h.tokens.alpha))).errors, undefined);
  } finally {
    await Promise.all(apis.map((api) => api.close()));
  }
  // The harness's API keeps its generous defaults for the tests after this one.
  assert.equal((await h.gql('{ models { name } }')).errors, undefined);
});

test("CORS: only the web app's origins get Access-Control-Allow-Origin, on requests and preflight", async () => {
  const preflight = (origin: string) =>
    fetch(`${h.api.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
  for (const origin of ['http://127.0.0.1:3000', 'http://localhost:3000']) {
    const allowed = await preflight(origin);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), origin);
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
    const answer = await fetch(`${h.api.url}/graphql`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ models { name } }' }),
    });
    assert.equal(answer.headers.get('access-control-allow-origin'), origin);
  }
  for (const origin of ['https://evil.example', 'http://127.0.0.1:3001', 'null', 'http://localhost:3000.evil.example']) {
    const refused = await preflight(origin);
    assert.equal(refused.headers.get('access-control-allow-origin'), null, origin);
    assert.equal(refused.headers.get('access-control-allow-methods'), null, origin);
    const answer = await fetch(`${h.api.url}/graphql`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ models { name } }' }),
    });
    assert.equal(answer.headers.get('access-control-allow-origin'), null, origin);
    assert.match(answer.headers.get('vary') ?? '', /Origin/);
  }
});

/** A GET with the path exactly as written: fetch would resolve the dot segments before sending. */
function rawGet(url: string, path: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

test('artifact keys that could leave the store are refused, however they are written', async () => {
  const store = new LocalArtifactStore(h.artifactDir);
  await store.put('uploads/sec/1_0.png', new Uint8Array([137, 80, 78, 71]));
  assert.equal(await rawGet(h.api.url, '/artifacts/uploads/sec/1_0.png'), 200);
  const attempts = [
    '/artifacts/../../../etc/passwd',
    '/artifacts/uploads/../../../etc/passwd',
    '/artifacts/uploads/sec/../../../../etc/passwd',
    '/artifacts/%2e%2e/%2e%2e/etc/passwd',
    '/artifacts/uploads/%2e%2e/%2e%2e/etc/passwd',
    '/artifacts/uploads/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/artifacts/uploads/..%2f..%2fetc/passwd',
    '/artifacts/%2fetc%2fpasswd',
    '/artifacts//etc/passwd',
    '/artifacts/uploads/..%5c..%5cetc%5cpasswd',
    '/artifacts/uploads\\..\\..\\etc\\passwd',
    '/artifacts/C:%5cWindows%5cwin.ini',
    '/artifacts/uploads/%00/x.png',
    '/artifacts/uploads/./sec/1_0.png',
  ];
  for (const path of attempts) {
    const status = await rawGet(h.api.url, path);
    // 400 from the key check; 404 where the router itself found no artifact route (never the file).
    assert.ok(status === 400 || status === 404, `${path}: HTTP ${status}`);
  }
  // What normalises to a real key, over the artifact route itself, is still refused rather than resolved.
  assert.equal(await rawGet(h.api.url, '/artifacts/uploads/x/../sec/1_0.png'), 400);
  assert.equal(await rawGet(h.api.url, '/artifacts/uploads/%2e%2e/uploads/sec/1_0.png'), 400);
});

test('no token, nor its secret, is ever in the log (after every request above, failed ones and bad tokens included)', async () => {
  // A few more that fail in their own ways, with a token attached.
  const wrong = h.tokens.beta.slice(0, -2) + 'zz';
  tokensSeen.push(wrong);
  await h.gql('mutation { createApiToken(name: "") { id } }', {}, h.tokens.beta);
  await h.gql('mutation { nope }', {}, h.tokens.beta);
  await h.gql('mutation { createApiToken(name: "x") { id } }', {}, wrong);
  await fetch(`${h.api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${h.tokens.alpha}` },
    body: '{"query": "{',
  });
  await fetch(`${h.api.url}/graphql?token=${encodeURIComponent(h.tokens.alpha)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${h.tokens.alpha}` },
    body: JSON.stringify({ query: '{ models { name } }' }),
  });
  await fetch(`${h.api.url}/artifacts/uploads/sec/1_0.png`, { headers: { authorization: `Bearer ${h.tokens.alpha}` } });

  const text = logged.join('');
  assert.ok(logged.length > 50, `the log got ${logged.length} lines: the test would see nothing`);
  assert.match(text, /"status":401/, 'refused requests are logged');
  assert.match(text, /"status":429/, 'rate-limited requests are logged');
  for (const token of tokensSeen) {
    const secret = token.split('_').slice(2).join('_');
    assert.ok(!text.includes(token), `a token is in the log: ${token.slice(0, 16)}...`);
    assert.ok(!text.includes(secret), `a token's secret is in the log (of ${token.slice(0, 16)}...)`);
  }
});
