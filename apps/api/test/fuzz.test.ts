/**
 * Random and malformed requests to /graphql from a seeded generator: bytes, truncated JSON, wrong
 * variable types, huge strings, unknown fields, deep selections, mutations with junk inputs (with
 * and without a valid token), other content types and methods, introspection (aliased, nested,
 * with junk type names), aliases, variables with junk defaults, and junk (NUL characters, LIKE
 * wildcards, garbage and out-of-range cursors, long text) in every string argument the schema has,
 * found by walking the schema. Every answer must be a well-formed
 * HTTP answer with a JSON body holding `errors` or `data`, never a 5xx; the server must still answer
 * afterwards, and nothing may be written. FUZZ_SEED=N reruns one seed; FUZZ_REQUESTS=N sets how many.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLInputType,
} from 'graphql';
import { seededRandom } from '../../../workers/test/onnx/support/random.ts';
import { typeDefs } from '../src/graphql/schema.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { SHAPES_EVAL } from './support/stand-in-worker.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 300);

let h: Harness;

/** A run that exists (QUEUED: no worker takes it), so that junk in its listings' arguments reaches them. */
let existingRun = '00000000-0000-4000-8000-000000000000';

before(async () => {
  // No rate limits: every request should reach the code under test.
  h = await startHarness('fuzz', { rateLimits: { mutationsPerMinute: 0, teamMutationsPerMinute: 0, queryCostPerMinute: 0, authFailuresPerMinute: 0 } });
  const prefix = await h.upload(
    h.tokens.alpha,
    Object.fromEntries(
      SHAPES_EVAL.prompts
        .filter((p) => p.relation)
        .slice(0, 3)
        .map((p) => [`${p.id}_0.png`, new Uint8Array([137, 80, 78, 71])]),
    ),
  );
  const set = await h.gql('mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id } }', { prefix }, h.tokens.alpha);
  const run = await h.gql(
    'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }',
    { input: { kind: 'EVALUATE_ONLY', benchmark: 'visor-shapes', promptSet: 'eval', imageSet: set.data!.registerImageSet.id, detector: 'shapes' } },
    h.tokens.alpha,
  );
  existingRun = run.data!.submitRun.run.id;
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
  const alphabets = [
    'abc',
    '../',
    '%2e%2e/',
    '\\',
    '\u0000',
    '\u202e',
    '😀',
    '"\'`',
    '{}[]',
    ' ',
    'isa_',
    '00000000-0000-4000-8000-000000000000',
    'uploads/',
    '$',
    'DROP TABLE runs;--',
  ];
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
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1.5, 2 ** 31, -(2 ** 53), 1e308, Number.MAX_SAFE_INTEGER, 101, 0.1]);
    case 3:
      return junkString(r);
    case 4:
      return r.pick([
        '',
        'GENERATE_AND_EVALUATE',
        'EVALUATE_ONLY',
        'visor-shapes',
        'eval',
        'tiny-test',
        'baseline',
        'infsplign',
        'shapes',
        'owlvit:/etc/passwd',
      ]);
    case 5:
      return '00000000-0000-4000-8000-' + String(r.int(1e12)).padStart(12, '0');
    case 6:
      return 'x'.repeat(r.int(20_000));
    case 7:
      return Array.from({ length: r.int(5) }, () => junkValue(r, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = r.int(6); i > 0; i--)
        object[r.pick([...VARIABLE_NAMES, 'kind', 'params', 'steps', '__proto__', 'constructor', junkString(r, 8)])] = junkValue(r, depth + 1);
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

/** Strings that have broken APIs: NUL, LIKE wildcards, cursors of garbage or out-of-range numbers, long text. */
function junkArgument(r: Rng): string {
  const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return r.pick([
    '\u0000',
    `a\u0000b`,
    '%',
    '_',
    '%_%',
    '\\',
    cursor([1e300, 0]),
    cursor([2 ** 31, -(2 ** 31) - 1]),
    cursor(['2026-01-01T00:00:00.000Z', 'not-a-uuid']),
    cursor(['+275760-09-13T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']),
    cursor({ a: 1 }),
    'bm90IGpzb24',
    '!!!',
    'x'.repeat(r.int(5000)),
    '00000000-0000-4000-8000-000000000000',
    'uploads/' + 'a'.repeat(32),
    junkString(r),
  ]);
}

/** Every place a string reaches the API: a root field's String or ID argument, or such a field of an input argument. */
interface StringSite {
  operation: 'query' | 'mutation';
  field: string;
  /** the argument, then the input field within it */
  path: string[];
}

const SCHEMA = buildSchema(typeDefs);

function stringSites(): StringSite[] {
  const sites: StringSite[] = [];
  const isString = (type: GraphQLInputType) => {
    const named = getNamedType(type);
    return isScalarType(named) && (named.name === 'String' || named.name === 'ID');
  };
  for (const operation of ['query', 'mutation'] as const) {
    const root = operation === 'query' ? SCHEMA.getQueryType()! : SCHEMA.getMutationType()!;
    for (const field of Object.values(root.getFields())) {
      for (const arg of field.args) {
        if (isString(arg.type)) sites.push({ operation, field: field.name, path: [arg.name] });
        const named = getNamedType(arg.type);
        if (isInputObjectType(named))
          for (const inner of Object.values(named.getFields()))
            if (isString(inner.type)) sites.push({ operation, field: field.name, path: [arg.name, inner.name] });
      }
    }
  }
  return sites;
}

/** A value of the type that passes GraphQL's own checks, for the arguments a site does not fuzz. */
function filler(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return filler(type.ofType);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type))
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type))
        .map((f) => [f.name, filler(f.type)]),
    );
  const name = getNamedType(type).name;
  return name === 'Int' || name === 'Float' ? 1 : name === 'Boolean' ? false : name === 'ID' ? existingRun : 'x';
}

/** Mutations that write whatever their strings hold, given a valid token: fuzzed without one. */
const WRITES_ANYWAY = new Set(['createApiToken', 'createUpload']);

function stringSiteRequest(r: Rng, site: StringSite, junk: string): { query: string; variables: Record<string, unknown>; valid: boolean } {
  const root = site.operation === 'query' ? SCHEMA.getQueryType()! : SCHEMA.getMutationType()!;
  const field = root.getFields()[site.field];
  const variables: Record<string, unknown> = {};
  const declared = field.args.map((arg: GraphQLArgument) => `$${arg.name}: ${arg.type.toString()}`);
  for (const arg of field.args) variables[arg.name] = filler(arg.type);
  if (site.path.length === 1) variables[site.path[0]] = junk;
  else {
    // A submission that cannot pass validation whatever is fuzzed: no such benchmark (unless the benchmark is).
    const base =
      site.field === 'submitRun' ? { ...(variables[site.path[0]] as object), benchmark: `fuzz-${junkString(r, 5)}` } : (variables[site.path[0]] as object);
    variables[site.path[0]] = { ...base, [site.path[1]]: junk };
  }
  const named = getNamedType(field.type);
  const selection = isObjectType(named) ? ' { __typename }' : '';
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const query = `${site.operation}${declared.length ? ` (${declared.join(', ')})` : ''} { ${site.field}${args ? `(${args})` : ''}${selection} }`;
  const valid = !WRITES_ANYWAY.has(site.field) && r.chance(0.7);
  return { query, variables, valid };
}

const SITES = stringSites();

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
  const json = (what: string, body: unknown, headers: Record<string, string> = {}): FuzzRequest => ({
    what,
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const auth = (valid: boolean): Record<string, string> =>
    valid
      ? { authorization: `Bearer ${token}` }
      : r.pick<Record<string, string>>([
          {},
          { authorization: 'Bearer ' + headerJunk(r) },
          { authorization: headerJunk(r) },
          { authorization: `Bearer ${token.slice(0, -3)}abc` },
        ]);
  switch (r.int(17)) {
    case 0: {
      const bytes = new Uint8Array(r.int(300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
      return {
        what: 'random bytes',
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': r.pick(['application/json', 'application/octet-stream', 'text/plain']) },
        body: bytes,
      };
    }
    case 1: {
      const text = JSON.stringify({ query: r.pick([...QUERIES, ...MUTATIONS]), variables: junkVariables(r) });
      return {
        what: 'truncated JSON',
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', ...auth(false) },
        body: text.slice(0, r.int(text.length)),
      };
    }
    case 2:
      return json('a query with junk variables', { query: r.pick(QUERIES), variables: junkVariables(r) }, auth(false));
    case 3:
      return json('a mangled query', { query: mangle(r, r.pick([...QUERIES, ...MUTATIONS])), variables: junkVariables(r) }, auth(false));
    case 4:
      return json('unknown fields and arguments', {
        query: `{ ${junkString(r, 3).replace(/\W/g, '') || 'nope'} models(bogus: 1) { name secret } __typename }`,
      });
    case 5: {
      const depth = r.int(60) + 5;
      return json(`a selection ${depth} deep`, {
        query: r.chance(0.5)
          ? `{ run(id: "00000000-0000-4000-8000-000000000000") { ${nested(r, depth)} } }`
          : `${'{'.repeat(depth)}${'}'.repeat(r.int(depth))}`,
      });
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
      if (query.includes('submitRun') && valid)
        return json('submitRun, valid token, junk input', { query, variables: { input: junkSubmitInput(r) } }, auth(true));
      return json(`a mutation with junk input${valid ? ', valid token' : ''}`, { query, variables }, auth(valid));
    }
    case 8: {
      const contentType = r.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/graphql',
        '',
        'application/json; charset=utf-16',
      ]);
      const body = r.chance(0.5) ? JSON.stringify({ query: r.pick(QUERIES) }) : `query=${encodeURIComponent(r.pick(MUTATIONS))}`;
      return { what: `content type '${contentType}'`, method: 'POST', path: '/graphql', headers: contentType ? { 'content-type': contentType } : {}, body };
    }
    case 9: {
      const query = r.pick([...QUERIES, ...MUTATIONS, junkString(r)]);
      const method = r.pick(['GET', 'GET', 'PUT', 'DELETE', 'PATCH']);
      return {
        what: `${method} with a query string`,
        method,
        path: `/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(r.chance(0.5) ? JSON.stringify(junkVariables(r)) : junkString(r))}`,
        headers: { 'apollo-require-preflight': 'true' },
      };
    }
    case 10:
      return json(
        'JSON that is not a request',
        r.pick<unknown>([
          null,
          1,
          'query',
          [],
          [{ query: '{ models { name } }' }],
          { query: 1 },
          { query: null },
          { query: ['{ models { name } }'] },
          { operationName: 7, query: '{ models { name } }' },
          { query: '{ models { name } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } },
        ]),
      );
    case 11: {
      // Variables of the right GraphQL types, so that junk reaches the resolvers' own validation.
      const query = r.pick(MUTATIONS.filter((m) => !m.includes('createApiToken')));
      const id = r.pick(['00000000-0000-4000-8000-000000000000', junkString(r), '', String(r.int(1e9))]);
      const input = {
        ...junkSubmitInput(r),
        kind: r.pick(['GENERATE_AND_EVALUATE', 'EVALUATE_ONLY']),
        promptSet: r.pick(['eval', junkString(r)]),
        detector: r.pick(['shapes', 'coco:../x', 'owlvit:' + junkString(r), junkString(r)]),
        params: junkValue(r),
        imageSet: r.chance(0.5) ? id : undefined,
        limit: r.pick([undefined, 0, -1, 2 ** 31 - 1]),
        model: r.pick(['tiny-test', junkString(r)]),
      };
      const variables = {
        input,
        id,
        runId: id,
        prefix: r.pick(['uploads/x', '../../etc', '/abs', 'runs/x', junkString(r)]),
        detector: r.chance(0.5) ? junkString(r) : null,
        threshold: r.pick([null, -1, 0.5, 2, 1e-300]),
      };
      const valid = r.chance(0.4);
      const used = Object.fromEntries(Object.entries(variables).filter(([name]) => query.includes(`$${name}:`)));
      return json(`a typed mutation with junk values${valid ? ', valid token' : ''}`, { query, variables: used }, auth(valid));
    }
    case 13: {
      // Introspection: whole, aliased many times, nested, of junk or real type names.
      const typeName = r.pick(['Run', 'Query', 'SubmitRunInput', '__Schema', junkString(r, 10), '\u0000', '%']);
      const query = r.pick([
        '{ __schema { types { name kind fields { name args { name type { name ofType { name } } } } } } }',
        `{ ${Array.from({ length: r.int(1500) + 1 }, (_, i) => `s${i}: __schema { types { name fields { name } } }`).join(' ')} }`,
        `{ ${Array.from({ length: r.int(200) + 1 }, (_, i) => `t${i}: __type(name: ${JSON.stringify(typeName)}) { name fields { name } }`).join(' ')} }`,
        `query ($n: String = ${JSON.stringify(typeName)}) { __type(name: $n) { name enumValues { name } inputFields { name } } __typename }`,
        '{ __schema { queryType { fields { name type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }',
        `{ ${'__typename '.repeat(r.int(2000) + 1)}}`,
      ]);
      return json('introspection', { query, variables: r.chance(0.3) ? { n: typeName } : {} }, auth(r.chance(0.5)));
    }
    case 14: {
      // Aliases: many names for the same paged field, with sizes past the limits.
      const n = r.int(400) + 1;
      const first = r.pick([1, 20, 100, 101, -1, 2 ** 31 - 1]);
      const query = `{ ${Array.from({ length: n }, (_, i) => `r${i}: runs(first: ${first}) { edges { node { id timeline { status } } } }`).join(' ')} }`;
      return json(`${n} aliases`, { query });
    }
    case 15: {
      // Variables with defaults, junk ones included: the default is what a missing variable is.
      const defaults = r.pick([
        'query ($n: Int = 100, $after: String = "%s") { runs(first: $n, after: $after) { totalCount edges { node { id } } } }',
        'query ($n: Int = 2147483647) { runs(first: $n) { edges { node { id } } } }',
        'query ($id: ID! = "%s", $f: ImageFilter = { text: "%s", relation: "%s" }) { images(runId: $id, filter: $f) { totalCount } }',
        'query ($b: String! = "%s", $m: String = "%s") { leaderboard(benchmark: $b, model: $m) { rank } }',
        'query ($a: ID! = "%s", $b: ID! = "%s") { compareRuns(a: $a, b: $b) { pairs } }',
        'query ($f: RunFilter = { team: "%s", status: [QUEUED] }) { runs(filter: $f) { totalCount } }',
      ]);
      const query = defaults.replace(/%s/g, () => JSON.stringify(junkArgument(r)).slice(1, -1).slice(0, 300));
      return json('variables with defaults', { query, variables: r.chance(0.3) ? junkVariables(r) : {} });
    }
    case 16: {
      // Junk in one string argument of one root field, every such argument the schema has in turn.
      const site = r.pick(SITES);
      const { query, variables, valid } = stringSiteRequest(r, site, junkArgument(r));
      return json(`junk in ${site.field}(${site.path.join('.')})${valid ? ', valid token' : ''}`, { query, variables }, auth(valid));
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
      return json(
        'odd documents',
        { query, operationName: r.chance(0.3) ? r.pick(['A', 'B', 'C', null]) : undefined },
        auth(r.chance(0.2) && !query.startsWith('mutation') ? true : false),
      );
    }
  }
}

async function counts() {
  const p = h.prisma;
  const [runs, imageSets, apiTokens, teams, events, configs] = await Promise.all([
    p.run.count(),
    p.imageSet.count(),
    p.apiToken.count(),
    p.team.count(),
    p.runEvent.count(),
    p.methodConfig.count(),
  ]);
  return { runs, imageSets, apiTokens, teams, events, configs };
}

/** Sends one request and checks its answer: well-formed, no 5xx, no internal error, no token echoed. Answers "status code". */
async function exchange(request: FuzzRequest, where: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${h.api.url}${request.path}`, { method: request.method, headers: request.headers, body: request.body as BodyInit | undefined });
  } catch (err) {
    assert.fail(`${where}: no HTTP answer (${(err as Error).message})`);
  }
  const text = await response.text();
  assert.ok(response.status < 500, `${where}: HTTP ${response.status} ${text.slice(0, 300)}`);
  // Node's HTTP parser itself answers an over-long request line, bodiless, before express sees it.
  if (response.status === 431) return '431';
  assert.match(
    response.headers.get('content-type') ?? '',
    /^application\/(graphql-response\+)?json/,
    `${where}: HTTP ${response.status} content type ${response.headers.get('content-type')}: ${text.slice(0, 300)}`,
  );
  let body: { data?: unknown; errors?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`${where}: HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 300)}`);
  }
  assert.ok(body !== null && typeof body === 'object' && ('errors' in body || 'data' in body), `${where}: neither errors nor data: ${text.slice(0, 300)}`);
  if (body.errors !== undefined)
    assert.ok(
      Array.isArray(body.errors) && body.errors.length > 0 && body.errors.every((e: any) => typeof e?.message === 'string'),
      `${where}: malformed errors: ${text.slice(0, 300)}`,
    );
  // A resolver that crashed answers 200 with this code: a 5xx in all but its status.
  assert.ok(!text.includes('"INTERNAL_SERVER_ERROR"'), `${where}: an internal error: ${text.slice(0, 300)}`);
  assert.ok(!text.includes(h.tokens.alpha), `${where}: the answer echoes the token`);
  return `${response.status} ${(body.errors as any)?.[0]?.extensions?.code ?? 'data'}`;
}

const describe = (request: FuzzRequest) =>
  `${request.method} ${request.path.slice(0, 120)} ${String(typeof request.body === 'string' ? request.body : '<bytes>').slice(0, 200)}`;

test(`fuzz: ${REQUESTS} random and malformed requests get well-formed answers, no 5xx, and write nothing (seed ${SEED})`, async () => {
  const r = prng(SEED);
  const before = await counts();
  const seen = new Map<string, number>();
  for (let i = 0; i < REQUESTS; i++) {
    const request = generate(r, h.tokens.alpha);
    const key = await exchange(request, `seed ${SEED}, request ${i} (${request.what}): ${describe(request)}`);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  assert.equal((await fetch(`${h.api.url}/healthz`)).status, 200, `seed ${SEED}: healthz after the fuzzing`);
  assert.equal((await h.gql('{ models { name } }')).data?.models.length, 1, `seed ${SEED}: a plain query after the fuzzing`);
  assert.deepEqual(await counts(), before, `seed ${SEED}: the fuzzing wrote rows`);
  // Not an assertion on the mix, which any change to the generator moves: only that it is varied.
  if (process.env.FUZZ_VERBOSE) console.log(seen);
  assert.ok(seen.size >= 3, `seed ${SEED}: answers were all alike: ${JSON.stringify([...seen])}`);
});

test('every string argument the schema has, with each kind of junk, gets a typed answer: BAD_USER_INPUT and the like, or data, never an internal error', async () => {
  const r = prng(SEED + 1);
  const before = await counts();
  const kinds = [
    '\u0000',
    '%',
    '_',
    Buffer.from(JSON.stringify([2 ** 31, 0])).toString('base64url'),
    Buffer.from(JSON.stringify(['+275760-09-13T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'])).toString('base64url'),
    'bm90IGpzb24',
    'x'.repeat(5000),
  ];
  assert.ok(SITES.length >= 20, `only ${SITES.length} string arguments found`);
  const codes = new Map<string, Set<string>>();
  for (const site of SITES) {
    for (const junk of kinds) {
      const { query, variables, valid } = stringSiteRequest(r, site, junk);
      const request: FuzzRequest = {
        what: '',
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', ...(valid && { authorization: `Bearer ${h.tokens.alpha}` }) },
        body: JSON.stringify({ query, variables }),
      };
      const key = await exchange(request, `${site.field}(${site.path.join('.')}) = ${JSON.stringify(junk.slice(0, 40))}: ${describe(request)}`);
      if (junk.includes('\u0000')) assert.match(key, /^400 BAD_USER_INPUT$/, `${site.field}(${site.path.join('.')}) with a NUL`);
      codes.set(site.field, (codes.get(site.field) ?? new Set()).add(key));
    }
  }
  assert.deepEqual(await counts(), before, 'junk arguments wrote rows');
  if (process.env.FUZZ_VERBOSE) console.log(codes);
});
