/**
 * Random and malformed requests to /graphql from a seeded generator: bytes, truncated JSON, wrong
 * variable types, huge strings, unknown fields, deep selections, mutations with junk inputs (with
 * and without a valid token), other content types and methods. Every answer must be a well-formed
 * HTTP answer with a JSON body holding `errors` or `data`, never a 5xx; the server must still answer
 * afterwards, and nothing may be written. FUZZ_SEED=N reruns one seed; FUZZ_REQUESTS=N sets how many.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seededRandom } from '../../../workers/test/onnx/support/random.ts';
import { startHarness, type Harness } from './support/harness.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 300);

let h: Harness;

before(async () => {
  // No rate limits: every request should reach the code under test.
  h = await startHarness('fuzz', { rateLimits: { mutationsPerMinute: 0, queryCostPerMinute: 0 } });
});

after(async () => {
  await h?.close();
});

/** The suite's seeded generator (mulberry32), with the picks the fuzzer needs. */
function prng(seed: number) {
  const { uniform: next } = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}

type Rng = ReturnType<typeof prng>;

interface FuzzRequest {
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

const QUERIES = [
  '{ models { name family } }',
  '{ benchmarks { name metrics { key } promptSets { name promptCount } } }',
  'query ($first: Int, $after: String) { runs(first: $first, after: $after) { totalCount edges { node { id status } } } }',
  'query ($id: ID!) { run(id: $id) { id status config aggregates { metrics { key value } } } }',
  'query ($benchmark: String!, $model: String) { leaderboard(benchmark: $benchmark, model: $model) { run { id } } }',
  'query ($id: ID!) { image(id: $id) { id url } }',
  'query ($runId: ID!, $first: Int) { images(runId: $runId, first: $first) { totalCount } }',
  'query ($model: String) { methods { name defaults(model: $model) } }',
  '{ queueHealth { generate { waiting } } }',
];

const MUTATIONS = [
  'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } reused } }',
  'mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }',
  'mutation ($id: ID!) { cancelRun(id: $id) { id } }',
  'mutation ($id: ID!) { retryRun(id: $id) { id } }',
  'mutation ($runId: ID!, $detector: String, $threshold: Float) { rescoreRun(runId: $runId, detector: $detector, threshold: $threshold) { run { id } } }',
  'mutation ($id: ID!) { deleteRun(id: $id) { id artifactsDeleted } }',
  'mutation ($name: String!) { createApiToken(name: $name) { token } }',
];

const VARIABLE_NAMES = ['input', 'prefix', 'id', 'runId', 'detector', 'threshold', 'name', 'first', 'after', 'benchmark', 'model'];

function junkString(r: Rng, max = 40): string {
  const alphabets = ['abc', '../', '%2e%2e/', '\\', '\u0000', '\u202e', '😀', '"\'`', '{}[]', ' ', 'isa_', '00000000-0000-4000-8000-000000000000', 'uploads/', '$', 'DROP TABLE runs;--'];
  let text = '';
  const n = r.int(max);
  for (let i = 0; i < n; i++) text += r.chance(0.3) ? String.fromCharCode(r.int(0x3000)) : r.pick(alphabets);
  return text;
}

/** Junk that a header can carry (printable ASCII: fetch refuses the rest before sending). */
function headerJunk(r: Rng): string {
  return junkString(r).replace(/[^\x20-\x7e]/g, '?');
}

function junkValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 7 : 10)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1.5, 2 ** 31, -(2 ** 53), 1e308, Number.MAX_SAFE_INTEGER, 101, 0.1]);
    case 3: return junkString(r);
    case 4: return r.pick(['', 'GENERATE_AND_EVALUATE', 'EVALUATE_ONLY', 'visor-shapes', 'eval', 'tiny-test', 'baseline', 'infsplign', 'shapes', 'owlvit:/etc/passwd']);
    case 5: return '00000000-0000-4000-8000-' + String(r.int(1e12)).padStart(12, '0');
    case 6: return 'x'.repeat(r.int(20_000));
    case 7: return Array.from({ length: r.int(5) }, () => junkValue(r, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = r.int(6); i > 0; i--) object[r.pick([...VARIABLE_NAMES, 'kind', 'params', 'steps', '__proto__', 'constructor', junkString(r, 8)])] = junkValue(r, depth + 1);
      return object;
    }
  }
}

function junkVariables(r: Rng): unknown {
  if (r.chance(0.1)) return r.pick([null, 'a string', 42, [], [1, 2]]);
  const variables: Record<string, unknown> = {};
  for (const name of VARIABLE_NAMES) if (r.chance(0.5)) variables[name] = junkValue(r);
  return variables;
}

/** A submitRun input that cannot pass validation whatever else is junk: no such benchmark. */
function junkSubmitInput(r: Rng): Record<string, unknown> {
  const input = junkValue(r);
  return { ...(input && typeof input === 'object' && !Array.isArray(input) ? input : {}), benchmark: `fuzz-${junkString(r, 5)}` };
}

function nested(r: Rng, depth: number): string {
  if (depth === 0) return 'id';
  return `${r.pick(['sourceRun', 'run', 'edges', 'node', 'team', 'a'])} { ${nested(r, depth - 1)} }`;
}

function mangle(r: Rng, text: string): string {
  const chars = [...text];
  for (let i = r.int(5) + 1; i > 0; i--) {
    const at = r.int(chars.length + 1);
    if (r.chance(0.5)) chars.splice(at, 1);
    else chars.splice(at, 0, r.pick(['{', '}', '(', ')', '$', '!', '"', ':', '@', '...', '#', '\n', '\u0000']));
  }
  return chars.join('');
}

function generate(r: Rng, token: string): FuzzRequest {
  const json = (what: string, body: unknown, headers: Record<string, string> = {}): FuzzRequest => ({ what, method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const auth = (valid: boolean): Record<string, string> =>
    valid ? { authorization: `Bearer ${token}` } : r.pick<Record<string, string>>([{}, { authorization: 'Bearer ' + headerJunk(r) }, { authorization: headerJunk(r) }, { authorization: `Bearer ${token.slice(0, -3)}abc` }]);
  switch (r.int(13)) {
    case 0: {
      const bytes = new Uint8Array(r.int(300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
      return { what: 'random bytes', method: 'POST', path: '/graphql', headers: { 'content-type': r.pick(['application/json', 'application/octet-stream', 'text/plain']) }, body: bytes };
    }
    case 1: {
      const text = JSON.stringify({ query: r.pick([...QUERIES, ...MUTATIONS]), variables: junkVariables(r) });
      return { what: 'truncated JSON', method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', ...auth(false) }, body: text.slice(0, r.int(text.length)) };
    }
    case 2:
      return json('a query with junk variables', { query: r.pick(QUERIES), variables: junkVariables(r) }, auth(false));
    case 3:
      return json('a mangled query', { query: mangle(r, r.pick([...QUERIES, ...MUTATIONS])), variables: junkVariables(r) }, auth(false));
    case 4:
      return json('unknown fields and arguments', { query: `{ ${junkString(r, 3).replace(/\W/g, '') || 'nope'} models(bogus: 1) { name secret } __typename }` });
    case 5: {
      const depth = r.int(60) + 5;
      return json(`a selection ${depth} deep`, { query: r.chance(0.5) ? `{ run(id: "00000000-0000-4000-8000-000000000000") { ${nested(r, depth)} } }` : `${'{'.repeat(depth)}${'}'.repeat(r.int(depth))}` });
    }
    case 6: {
      // Over and under the body limit.
      const size = r.pick([50_000, 99_000, 120_000, 500_000]);
      return json(`a ${size}-byte string`, { query: r.pick(QUERIES), variables: { id: 'x'.repeat(size), benchmark: 'y'.repeat(size) } });
    }
    case 7: {
      // Shaped like a real mutation; with a valid token only where it cannot write.
      const query = r.pick(MUTATIONS);
      const valid = r.chance(0.25) && !query.includes('createApiToken');
      const variables = junkVariables(r) as Record<string, unknown>;
      if (query.includes('submitRun') && valid) return json('submitRun, valid token, junk input', { query, variables: { input: junkSubmitInput(r) } }, auth(true));
      return json(`a mutation with junk input${valid ? ', valid token' : ''}`, { query, variables }, auth(valid));
    }
    case 8: {
      const contentType = r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/graphql', '', 'application/json; charset=utf-16']);
      const body = r.chance(0.5) ? JSON.stringify({ query: r.pick(QUERIES) }) : `query=${encodeURIComponent(r.pick(MUTATIONS))}`;
      return { what: `content type '${contentType}'`, method: 'POST', path: '/graphql', headers: contentType ? { 'content-type': contentType } : {}, body };
    }
    case 9: {
      const query = r.pick([...QUERIES, ...MUTATIONS, junkString(r)]);
      const method = r.pick(['GET', 'GET', 'PUT', 'DELETE', 'PATCH']);
      return { what: `${method} with a query string`, method, path: `/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(r.chance(0.5) ? JSON.stringify(junkVariables(r)) : junkString(r))}`, headers: { 'apollo-require-preflight': 'true' } };
    }
    case 10:
      return json('JSON that is not a request', r.pick<unknown>([null, 1, 'query', [], [{ query: '{ models { name } }' }], { query: 1 }, { query: null }, { query: ['{ models { name } }'] }, { operationName: 7, query: '{ models { name } }' }, { query: '{ models { name } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } }]));
    case 11: {
      // Variables of the right GraphQL types, so that junk reaches the resolvers' own validation.
      const query = r.pick(MUTATIONS.filter((m) => !m.includes('createApiToken')));
      const id = r.pick(['00000000-0000-4000-8000-000000000000', junkString(r), '', String(r.int(1e9))]);
      const input = { ...junkSubmitInput(r), kind: r.pick(['GENERATE_AND_EVALUATE', 'EVALUATE_ONLY']), promptSet: r.pick(['eval', junkString(r)]), detector: r.pick(['shapes', 'coco:../x', 'owlvit:' + junkString(r), junkString(r)]), params: junkValue(r), imageSet: r.chance(0.5) ? id : undefined, limit: r.pick([undefined, 0, -1, 2 ** 31 - 1]), model: r.pick(['tiny-test', junkString(r)]) };
      const variables = { input, id, runId: id, prefix: r.pick(['uploads/x', '../../etc', '/abs', 'runs/x', junkString(r)]), detector: r.chance(0.5) ? junkString(r) : null, threshold: r.pick([null, -1, 0.5, 2, 1e-300]) };
      const valid = r.chance(0.4);
      const used = Object.fromEntries(Object.entries(variables).filter(([name]) => query.includes(`$${name}:`)));
      return json(`a typed mutation with junk values${valid ? ', valid token' : ''}`, { query, variables: used }, auth(valid));
    }
    default: {
      // Several operations, fragments and aliases in one document, some of them cyclic or wrong.
      const query = r.pick([
        'query A { models { name } } query B { models { family } }',
        'fragment F on Run { ...G } fragment G on Run { ...F } { runs { edges { node { ...F } } } }',
        `{ ${Array.from({ length: r.int(300) + 1 }, (_, i) => `a${i}: models { name }`).join(' ')} }`,
        `mutation { ${Array.from({ length: r.int(20) + 1 }, (_, i) => `c${i}: cancelRun(id: "00000000-0000-4000-8000-00000000000${i % 10}") { id }`).join(' ')} }`,
        'subscription { runs { id } }',
      ]);
      return json('odd documents', { query, operationName: r.chance(0.3) ? r.pick(['A', 'B', 'C', null]) : undefined }, auth(r.chance(0.2) && !query.startsWith('mutation') ? true : false));
    }
  }
}

async function counts() {
  const p = h.prisma;
  const [runs, imageSets, apiTokens, teams, events, configs] = await Promise.all([p.run.count(), p.imageSet.count(), p.apiToken.count(), p.team.count(), p.runEvent.count(), p.methodConfig.count()]);
  return { runs, imageSets, apiTokens, teams, events, configs };
}

test(`fuzz: ${REQUESTS} random and malformed requests get well-formed answers, no 5xx, and write nothing (seed ${SEED})`, async () => {
  const r = prng(SEED);
  const before = await counts();
  const seen = new Map<string, number>();
  for (let i = 0; i < REQUESTS; i++) {
    const request = generate(r, h.tokens.alpha);
    const where = `seed ${SEED}, request ${i} (${request.what}): ${request.method} ${request.path.slice(0, 120)} ${String(typeof request.body === 'string' ? request.body : '<bytes>').slice(0, 200)}`;
    let response: Response;
    try {
      response = await fetch(`${h.api.url}${request.path}`, { method: request.method, headers: request.headers, body: request.body as BodyInit | undefined });
    } catch (err) {
      assert.fail(`${where}: no HTTP answer (${(err as Error).message})`);
    }
    const text = await response.text();
    assert.ok(response.status < 500, `${where}: HTTP ${response.status} ${text.slice(0, 300)}`);
    // Node's HTTP parser itself answers an over-long request line, bodiless, before express sees it.
    if (response.status === 431) continue;
    assert.match(response.headers.get('content-type') ?? '', /^application\/(graphql-response\+)?json/, `${where}: HTTP ${response.status} content type ${response.headers.get('content-type')}: ${text.slice(0, 300)}`);
    let body: { data?: unknown; errors?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      assert.fail(`${where}: HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 300)}`);
    }
    assert.ok(body !== null && typeof body === 'object' && ('errors' in body || 'data' in body), `${where}: neither errors nor data: ${text.slice(0, 300)}`);
    if (body.errors !== undefined) assert.ok(Array.isArray(body.errors) && body.errors.length > 0 && body.errors.every((e: any) => typeof e?.message === 'string'), `${where}: malformed errors: ${text.slice(0, 300)}`);
    // A resolver that crashed answers 200 with this code: a 5xx in all but its status.
    assert.ok(!text.includes('"INTERNAL_SERVER_ERROR"'), `${where}: an internal error: ${text.slice(0, 300)}`);
    assert.ok(!text.includes(h.tokens.alpha), `${where}: the answer echoes the token`);
    const key = `${response.status} ${(body.errors as any)?.[0]?.extensions?.code ?? 'data'}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  assert.equal((await fetch(`${h.api.url}/healthz`)).status, 200, `seed ${SEED}: healthz after the fuzzing`);
  assert.equal((await h.gql('{ models { name } }')).data?.models.length, 1, `seed ${SEED}: a plain query after the fuzzing`);
  assert.deepEqual(await counts(), before, `seed ${SEED}: the fuzzing wrote rows`);
  // Not an assertion on the mix, which any change to the generator moves: only that it is varied.
  if (process.env.FUZZ_VERBOSE) console.log(seen);
  assert.ok(seen.size >= 3, `seed ${SEED}: answers were all alike: ${JSON.stringify([...seen])}`);
});
