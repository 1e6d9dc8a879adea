/**
 * Issue 14's attacks on the API, each reproduced against the real stack (the API over HTTP,
 * PostgreSQL, Redis, the planning thread) with the mechanism that bounds it checked: structure, not
 * timings (`npm run bench:attacks` measures those). Rate limits are exercised on API servers of
 * their own, with small budgets, on the harness's database and Redis; each test clears the counters.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import { QUEUES } from '@infsplign/workers/contracts';
import { SCORER_VERSIONS } from '@infsplign/workers/benchmarks';
import { writePng } from '@infsplign/workers/testing';
import { redisConnection, sendResult } from '@infsplign/workers/queues';
import { Worker } from 'bullmq';
import { pino } from 'pino';
import { MAX_BODY_BYTES, readBodyWithin, signClientAddress, CLIENT_ADDRESS_HEADER } from '../src/proxy-contract.ts';
import { deleteCancelledArtifacts } from '../src/runs/cleanup.ts';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../src/server.ts';
import { eventually, startHarness, type GraphQLResponse, type Harness } from './support/harness.ts';
import { generatedMessage, SHAPES_EVAL } from './support/stand-in-worker.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SECRET = 'attacks-test-secret-'.padEnd(48, 'x');

let h: Harness;
const scratch = mkdtempSync(join(tmpdir(), 'infsplign-attacks-'));

before(async () => {
  h = await startHarness('attacks', { webProxySecret: SECRET });
});

after(async () => {
  await h?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** An API of its own on the harness's database and Redis, with small budgets; rate-limit counters cleared. */
async function limitedApi(options: Partial<ApiServerOptions>): Promise<ApiServer> {
  const spent = await h.api.services.redis.keys('infsplign:ratelimit:*');
  if (spent.length > 0) await h.api.services.redis.del(...spent);
  return createApiServer({
    databaseUrl: h.databaseUrl,
    redisUrl: h.redis.url,
    artifactDir: h.artifactDir,
    port: 0,
    logger: pino({ level: 'silent' }),
    sweepIntervalMs: 0,
    reconcileIntervalMs: 0,
    webProxySecret: SECRET,
    ...options,
  });
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, 'status'>) };
}

const signed = (address: string, secret = SECRET) => ({ [CLIENT_ADDRESS_HEADER]: signClientAddress(secret, address) });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const code = (answer: GraphQLResponse) => answer.errors?.[0]?.extensions?.code ?? 'data';
const NO_RUN = '00000000-0000-4000-8000-000000000000';
const CANCEL = 'mutation ($id: ID!) { cancelRun(id: $id) { id } }';
const SUBMIT = 'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id status team { name } progress { totalImages } } } }';

test('the whole VISOR set (25,280 scored prompts) x 4 images is planned in the planning thread and accepted; x 16 is refused by the run-size cap at input.limit', async () => {
  const promptSet = await h.prisma.promptSet.findFirstOrThrow({ where: { name: 'full', benchmark: { name: 'visor' } } });
  const totals = await h.api.services.planner.totals({
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor',
    promptSetId: promptSet.id,
    imagesPerPrompt: 4,
    promptLimit: null,
    imageSetPrefix: 'runs/x/images',
  });
  assert.deepEqual([totals.prompts, totals.images, totals.chunks], [25_280, 101_120, 3160]);
  assert.notEqual(totals.threadId, threadId, "planned on the event loop's thread");

  const input = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor',
    promptSet: 'full',
    model: 'tiny-test',
    method: 'baseline',
    detector: 'shapes',
    imagesPerPrompt: 4,
  };
  // /healthz keeps answering while the submission is planned and its 3,160 chunks enqueued.
  let submitting = true;
  let answered = 0;
  const probe = (async () => {
    while (submitting) {
      if ((await fetch(`${h.api.url}/healthz`)).ok && submitting) answered++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const accepted = await h.gql(SUBMIT, { input }, h.tokens.beta);
  submitting = false;
  await probe;
  assert.equal(accepted.errors, undefined, JSON.stringify(accepted.errors));
  assert.equal(accepted.data!.submitRun.run.progress.totalImages, 101_120);
  assert.ok(answered > 0, '/healthz answered while the run was being planned');
  const run = await h.prisma.run.findUniqueOrThrow({ where: { id: accepted.data!.submitRun.run.id } });
  assert.equal(run.chunksTotal, 3160);
  assert.equal(await h.api.services.queues.generate.getJobCountByTypes('waiting', 'prioritized'), 3160);
  await h.gql(CANCEL, { id: run.id }, h.tokens.beta);

  const runs = await h.prisma.run.count();
  const refused = await h.gql(SUBMIT, { input: { ...input, imagesPerPrompt: 16 } }, h.tokens.beta);
  assert.equal(code(refused), 'BAD_USER_INPUT');
  assert.deepEqual(refused.errors![0].extensions!.fieldErrors![0].path, ['input', 'limit']);
  assert.match(refused.errors![0].message, /404480 images \(25280 prompts\); a run may have at most 200000 \(MAX_RUN_IMAGES\)/);
  assert.equal(await h.prisma.run.count(), runs);
});

test('introspection is charged like any query, hundreds of aliases of it are refused, and it can be turned off', async () => {
  const api = await limitedApi({ rateLimits: { queryCostPerMinute: 100 } });
  const off = await limitedApi({ introspection: false });
  try {
    const who = signed('198.51.100.1');
    const schema = '{ __schema { types { name } } }';
    const types = (await post(api.url, schema, {}, who)).data!.__schema.types.length as number;
    assert.ok(types + 2 <= 100 && 2 * (types + 2) > 100, 'one introspection fits the budget of 100, two do not');
    const second = await post(api.url, schema, {}, who);
    assert.equal(second.status, 429);
    assert.equal(code(second), 'RATE_LIMITED');

    // A thousand aliases are too long a document to parse; 250 are parsed, priced and refused.
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __schema { types { name fields { name } } }`).join(' ')} }`;
    const unparsed = await post(api.url, aliases(1000), {}, signed('198.51.100.2'));
    assert.deepEqual([unparsed.status, code(unparsed)], [400, 'GRAPHQL_PARSE_FAILED']);
    assert.match(unparsed.errors![0].message, /more tha[nt] 5000 tokens/);
    const refused = await post(api.url, aliases(250), {}, signed('198.51.100.2'));
    assert.deepEqual([refused.status, code(refused)], [400, 'QUERY_TOO_COSTLY']);
    // Refused before it ran, and not charged: the same address still has its budget.
    assert.equal(code(await post(api.url, schema, {}, signed('198.51.100.2'))), 'data');

    const closed = await post(off.url, schema);
    assert.equal(closed.status, 400);
    assert.match(closed.errors![0].message, /introspection/i);
    assert.equal(code(await post(off.url, '{ models { name } }')), 'data');
  } finally {
    await Promise.all([api.close(), off.close()]);
  }
});

test('a spoofed X-Forwarded-For does not change the client key; only an address the web app signed does', async () => {
  const api = await limitedApi({ rateLimits: { mutationsPerMinute: 2 } });
  try {
    // From one socket, each request claiming another address: one budget.
    for (const [i, expected] of ['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED'].entries()) {
      assert.equal(
        code(await post(api.url, CANCEL, { id: NO_RUN }, { 'x-forwarded-for': `203.0.113.${i}`, 'x-real-ip': `203.0.113.${i}` })),
        expected,
        `request ${i}`,
      );
    }
    // Signed by the web app: each browser its own budget.
    for (const address of ['192.0.2.10', '192.0.2.11']) {
      for (const expected of ['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED'])
        assert.equal(code(await post(api.url, CANCEL, { id: NO_RUN }, signed(address))), expected, address);
    }
    // Signed with another secret, stale or edited: the socket's address, whose budget is spent.
    const stale = signClientAddress(SECRET, '192.0.2.12', Date.now() - 10 * 60_000);
    for (const forged of [
      signed('192.0.2.13', 'another-secret-of-forty-characters-xxxx'),
      { [CLIENT_ADDRESS_HEADER]: stale },
      { [CLIENT_ADDRESS_HEADER]: signClientAddress(SECRET, '192.0.2.14').replace('192.0.2.14', '192.0.2.15') },
    ]) {
      assert.equal(code(await post(api.url, CANCEL, { id: NO_RUN }, forged)), 'RATE_LIMITED', JSON.stringify(forged));
    }
  } finally {
    await api.close();
  }
});

test("forged tokens cost no slow hash and no write; past the address's refused tokens they are not even checked", async () => {
  const api = await limitedApi({ rateLimits: { authFailuresPerMinute: 5 } });
  try {
    const versions = () =>
      h.prisma.$queryRaw<{ v: string }[]>`SELECT string_agg(xmin::text || ':' || coalesce(last_used_at::text, ''), ',' ORDER BY id) AS v FROM api_tokens`;
    const before = await versions();
    const stored = await h.prisma.apiToken.findMany({ select: { secretHash: true } });
    assert.ok(
      stored.every((t) => /^sha256\$[0-9a-f]{64}$/.test(t.secretHash)),
      'tokens are checked by SHA-256',
    );
    const who = signed('198.51.100.20');
    const codes: string[] = [];
    for (let i = 0; i < 200; i++) {
      const forged = i % 2 ? `isa_${i.toString(16).padStart(12, '0')}_${'f'.repeat(43)}` : h.tokens.alpha.slice(0, -4) + 'abcd';
      codes.push(code(await post(api.url, i % 3 ? '{ models { name } }' : CANCEL, { id: NO_RUN }, { ...who, ...bearer(forged) })));
    }
    // Five are checked (and refused: a query answers, a mutation is UNAUTHENTICATED); the rest never reach the check.
    assert.deepEqual(codes.slice(0, 5), ['UNAUTHENTICATED', 'data', 'data', 'UNAUTHENTICATED', 'data']);
    assert.ok(
      codes.slice(5).every((c) => c === 'RATE_LIMITED'),
      codes.slice(5).join(','),
    );
    assert.deepEqual(await versions(), before, 'a forged token wrote to api_tokens');
    // Another address's valid token is untouched by it.
    assert.equal(code(await post(api.url, CANCEL, { id: NO_RUN }, { ...signed('198.51.100.21'), ...bearer(h.tokens.alpha) })), 'NOT_FOUND');
  } finally {
    await api.close();
  }
});

test("tokens are created with an expiry, listed and revoked through GraphQL; a revoked or expired one is refused at once; a team's tokens share one mutation budget", async () => {
  const created = await h.gql('mutation { createApiToken(name: "short", expiresInDays: 1) { id token prefix expiresAt } }', {}, h.tokens.alpha);
  const { id, token, prefix, expiresAt } = created.data!.createApiToken;
  const hours = (Date.parse(expiresAt) - Date.now()) / 3_600_000;
  assert.ok(hours > 23.9 && hours <= 24, `${hours} h`);
  const listed = await h.gql('{ apiTokens { id name prefix expiresAt revokedAt } }', {}, token);
  assert.deepEqual(
    listed.data!.apiTokens.find((t: { id: string }) => t.id === id),
    { id, name: 'short', prefix, expiresAt, revokedAt: null },
  );
  assert.equal(code(await h.gql('{ apiTokens { id } }')), 'UNAUTHENTICATED');
  assert.equal(code(await h.gql('mutation { createApiToken(name: "long", expiresInDays: 4000) { id } }', {}, token)), 'BAD_USER_INPUT');

  const other = (await h.gql('mutation { createApiToken(name: "other") { token } }', {}, h.tokens.alpha)).data!.createApiToken.token as string;
  const api = await limitedApi({ rateLimits: { mutationsPerMinute: 100, teamMutationsPerMinute: 3 } });
  try {
    const answers = [];
    for (const t of [h.tokens.alpha, token, other, other]) answers.push(code(await post(api.url, CANCEL, { id: NO_RUN }, bearer(t))));
    assert.deepEqual(answers, ['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'RATE_LIMITED']);
  } finally {
    await api.close();
  }

  const revoked = await h.gql('mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }', { id }, token);
  assert.ok(revoked.data!.revokeApiToken.revokedAt);
  const after = await h.gql('{ apiTokens { id } }', {}, token);
  assert.equal(code(after), 'UNAUTHENTICATED');
  assert.match(after.errors![0].message, /unknown, revoked or expired/);
  const expiring = (await h.gql('mutation { createApiToken(name: "expiring") { id token } }', {}, h.tokens.alpha)).data!.createApiToken;
  assert.equal(code(await h.gql('{ apiTokens { id } }', {}, expiring.token)), 'data');
  await h.prisma.apiToken.update({ where: { id: expiring.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
  assert.equal(code(await h.gql('{ apiTokens { id } }', {}, expiring.token)), 'UNAUTHENTICATED');
});

test("submitRun never hands back another team's finished run; a team's identical submissions in flight coalesce unless forced", async () => {
  const input = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor-shapes',
    promptSet: 'eval',
    model: 'tiny-test',
    method: 'baseline',
    detector: 'shapes',
    imagesPerPrompt: 1,
    limit: 3,
    seed: 11,
  };
  const alpha = await h.gql(SUBMIT, { input }, h.tokens.alpha);
  const alphaRun = alpha.data!.submitRun.run.id;
  await h.prisma.run.update({ where: { id: alphaRun }, data: { status: 'FINISHED', finishedAt: new Date(), scorerVersion: SCORER_VERSIONS.visor } });
  const beta = await h.gql(SUBMIT, { input }, h.tokens.beta);
  assert.equal(beta.data!.submitRun.reused, false);
  assert.notEqual(beta.data!.submitRun.run.id, alphaRun);
  assert.equal(beta.data!.submitRun.run.team.name, 'beta');
  assert.deepEqual(
    [(await h.gql(SUBMIT, { input }, h.tokens.alpha)).data!.submitRun.reused, (await h.gql(SUBMIT, { input }, h.tokens.alpha)).data!.submitRun.run.id],
    [true, alphaRun],
  );

  // Six identical submissions at once (an evaluation: one plan, shared, so all six reach the write together): one run.
  const prefix = await h.upload(
    h.tokens.alpha,
    Object.fromEntries(
      SHAPES_EVAL.prompts
        .filter((p) => p.relation)
        .slice(0, 3)
        .map((p) => [`${p.id}_0.png`, new Uint8Array([137, 80, 78, 71])]),
    ),
  );
  const imageSet = (await h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }', { prefix }, h.tokens.alpha)).data!.registerImageSet
    .id;
  const evaluation = { kind: 'EVALUATE_ONLY', benchmark: 'visor-shapes', promptSet: 'eval', imageSet, detector: 'shapes' };
  const answers = await Promise.all(Array.from({ length: 6 }, () => h.gql(SUBMIT, { input: evaluation }, h.tokens.alpha)));
  const ids = new Set(answers.map((a) => a.data!.submitRun.run.id));
  assert.equal(ids.size, 1, JSON.stringify(answers.map((a) => a.errors ?? a.data)));
  assert.equal(answers.filter((a) => !a.data!.submitRun.reused).length, 1);
  assert.equal(await h.prisma.run.count({ where: { imageSetId: imageSet } }), 1);
  const forced = await h.gql(SUBMIT, { input: { ...evaluation, force: true } }, h.tokens.alpha);
  assert.equal(forced.data!.submitRun.reused, false);
  assert.equal(await h.prisma.run.count({ where: { imageSetId: imageSet } }), 2);
});

test('an upload prefix belongs to the team createUpload gave it to; npx infsplign upload --api gets one and registers there', async () => {
  const png = new Uint8Array([137, 80, 78, 71]);
  const ids = SHAPES_EVAL.prompts
    .filter((p) => p.relation)
    .slice(0, 2)
    .map((p) => p.id);
  const alphaPrefix = await h.upload(h.tokens.alpha, Object.fromEntries(ids.map((id) => [`${id}_0.png`, png])));
  const sets = await h.prisma.imageSet.count();
  const register = (prefix: string, token: string) => h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }', { prefix }, token);
  assert.equal(code(await register(alphaPrefix, h.tokens.beta)), 'FORBIDDEN');
  // Images put under a prefix the API never handed out cannot be registered, whoever asks.
  const store = new LocalArtifactStore(h.artifactDir);
  await store.put(`uploads/claimed/${ids[0]}_0.png`, png);
  const unclaimed = await register('uploads/claimed', h.tokens.beta);
  assert.deepEqual([code(unclaimed), unclaimed.errors![0].extensions!.fieldErrors![0].path], ['BAD_USER_INPUT', ['prefix']]);
  assert.equal(await h.prisma.imageSet.count(), sets);
  assert.equal(code(await register(alphaPrefix, h.tokens.alpha)), 'data');

  const dir = join(scratch, 'upload');
  for (const id of ids) writePng(join(dir, `${id}_0.png`), { width: 1, height: 1, data: new Float32Array([1, 0, 0]) });
  const { stdout } = await promisify(execFile)('npx', ['--no-install', 'infsplign', 'upload', dir, '--api', h.api.url], {
    cwd: ROOT,
    env: { ...process.env, ARTIFACT_DIR: h.artifactDir, INFSPLIGN_TOKEN: h.tokens.beta },
  });
  const [prefix, count, registered] = stdout.trim().split('\n');
  assert.match(prefix, /^uploads\/[0-9a-f]{32}$/);
  assert.equal(count, `2 images uploaded to local:${h.artifactDir}`);
  const setId = /^image set (\S+) \(2 images\)/.exec(registered)?.[1];
  assert.equal(
    (await h.prisma.imageSet.findUniqueOrThrow({ where: { id: setId } })).teamId,
    (await h.prisma.team.findUniqueOrThrow({ where: { name: 'beta' } })).id,
  );
});

test('cancelling a generating run deletes its images once its running job has stopped writing; they stop being served', async () => {
  const input = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor-shapes',
    promptSet: 'eval',
    model: 'tiny-test',
    method: 'baseline',
    detector: 'shapes',
    imagesPerPrompt: 2,
    limit: 16,
    seed: 21,
  };
  const runId = (await h.gql(SUBMIT, { input }, h.tokens.alpha)).data!.submitRun.run.id as string;
  const store = new LocalArtifactStore(h.artifactDir);
  // A generate job in progress: it has written its images and not finished.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let writing!: () => void;
  const written = new Promise<void>((r) => (writing = r));
  const worker = new Worker(
    QUEUES.generate,
    async (job) => {
      if (job.data.runId !== runId) return;
      const message = await generatedMessage(h, runId, job.data.chunk);
      await sendResult(h.api.services.queues.results, message);
      writing();
      await held;
    },
    { connection: redisConnection(h.redis.url), concurrency: 1 },
  );
  try {
    await written;
    await eventually(async () => (await h.prisma.run.findUniqueOrThrow({ where: { id: runId } })).imagesGenerated === 16 || undefined, 'chunk 0 ingested');
    const keys = await store.list(`runs/${runId}/images`);
    assert.equal(keys.length, 16);
    assert.equal((await fetch(`${h.api.url}/artifacts/${keys[0]}`)).status, 200);

    assert.equal(code(await h.gql(CANCEL, { id: runId }, h.tokens.alpha)), 'data');
    // Its job is still running: deleting now would leave whatever it writes next.
    assert.equal((await store.list(`runs/${runId}/images`)).length, 16);
    assert.equal(await deleteCancelledArtifacts(h.api.services), 0);
    assert.equal((await h.prisma.run.findUniqueOrThrow({ where: { id: runId } })).artifactsDeletedAt, null);

    release();
    await eventually(async () => (await h.api.services.queues.generate.getJobCountByTypes('active')) === 0 || undefined, 'the job to finish');
    assert.equal(await deleteCancelledArtifacts(h.api.services), 1);
    assert.deepEqual(await store.list(`runs/${runId}/images`), []);
    assert.equal((await fetch(`${h.api.url}/artifacts/${keys[0]}`)).status, 404);
    assert.ok((await h.prisma.run.findUniqueOrThrow({ where: { id: runId } })).artifactsDeletedAt instanceof Date);
    assert.equal(await deleteCancelledArtifacts(h.api.services), 0, 'done once');
  } finally {
    release();
    await worker.close();
  }
});

test('a NUL character, an out-of-range cursor and LIKE wildcards are client errors or plain text, never internal errors', async () => {
  const input = {
    kind: 'GENERATE_AND_EVALUATE',
    benchmark: 'visor-shapes',
    promptSet: 'eval',
    model: 'tiny-test',
    method: 'baseline',
    detector: 'shapes',
    imagesPerPrompt: 1,
    limit: 8,
    seed: 31,
  };
  const runId = (await h.gql(SUBMIT, { input }, h.tokens.alpha)).data!.submitRun.run.id as string;
  await sendResult(h.api.services.queues.results, await generatedMessage(h, runId, 0));
  await eventually(async () => (await h.prisma.image.count({ where: { runId } })) === 8 || undefined, 'images ingested');
  const images = 'query ($id: ID!, $text: String, $after: String) { images(runId: $id, filter: { text: $text }, after: $after) { totalCount } }';

  const nul = await h.gql(images, { id: runId, text: 'apple\u0000' });
  assert.deepEqual([nul.status, code(nul), nul.errors![0].extensions!.fieldErrors![0].path], [400, 'BAD_USER_INPUT', ['text']]);
  const literal = await h.gql('{ runs(filter: { team: "al\\u0000pha" }) { totalCount } }');
  assert.deepEqual([code(literal), literal.errors![0].extensions!.fieldErrors![0].path], ['BAD_USER_INPUT', ['filter', 'team']]);
  const nested = await h.gql(SUBMIT, { input: { ...input, params: { layers: ['a\u0000'] } } }, h.tokens.alpha);
  assert.deepEqual([code(nested), nested.errors![0].extensions!.fieldErrors![0].path], ['BAD_USER_INPUT', ['input', 'params', 'layers', 0]]);

  for (const cursor of [
    [2 ** 31, 0],
    [0, -(2 ** 31) - 1],
  ]) {
    const answer = await h.gql(images, { id: runId, after: Buffer.from(JSON.stringify(cursor)).toString('base64url') });
    assert.deepEqual([code(answer), answer.errors![0].extensions!.fieldErrors![0].path], ['BAD_USER_INPUT', ['after']], JSON.stringify(cursor));
  }

  const count = async (text: string) => (await h.gql(images, { id: runId, text })).data!.images.totalCount as number;
  assert.ok((await count('to the')) > 0);
  for (const text of ['%', '_', 'a%', '%the%', 'to_the', '\\']) assert.equal(await count(text), 0, `'${text}' is matched as text`);
});

test("the web proxy's reader gives up on a body over the limit after at most the limit, and without reading when its length says so", async () => {
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 16 * 1024;
      controller.enqueue(new Uint8Array(16 * 1024));
    },
  });
  const streamed = new Request('http://web/graphql', { method: 'POST', body: endless, duplex: 'half' } as RequestInit);
  assert.equal(await readBodyWithin(streamed), null);
  assert.ok(pulled <= MAX_BODY_BYTES + 3 * 16 * 1024, `read ${pulled} bytes`);

  const untouched = new ReadableStream<Uint8Array>({
    pull() {
      throw new Error('the body was read');
    },
  });
  const declared = new Request('http://web/graphql', {
    method: 'POST',
    body: untouched,
    headers: { 'content-length': String(100 * 1024 * 1024) },
    duplex: 'half',
  } as RequestInit);
  assert.equal(await readBodyWithin(declared), null);
  const small = new Request('http://web/graphql', { method: 'POST', body: JSON.stringify({ query: '{ models { name } }' }) });
  assert.equal(await readBodyWithin(small), '{"query":"{ models { name } }"}');
});
