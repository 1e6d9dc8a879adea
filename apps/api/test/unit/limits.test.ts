/** Query depth and cost on the real schema, measured before anything runs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSchema, getIntrospectionQuery, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { COMPARISON_COST, MAX_COST, MAX_DEPTH, MAX_INTROSPECTION_COST, operationMeasure, queryLimitErrors } from '../../src/graphql/limits.ts';
import { typeDefs } from '../../src/graphql/schema.ts';

const schema = buildSchema(typeDefs);

function parsed(query: string) {
  const document = parse(query);
  return { document, operation: document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)! };
}

function errorsOf(query: string, variables: Record<string, unknown> = {}) {
  const { document, operation } = parsed(query);
  return queryLimitErrors(schema, document, operation, variables).map((e) => e.extensions.code);
}

function costOf(query: string, variables: Record<string, unknown> = {}) {
  const { document, operation } = parsed(query);
  return operationMeasure(schema, document, operation, variables).cost;
}

test('a usual page is within the limits', () => {
  assert.deepEqual(errorsOf('{ runs(first: 20) { edges { node { id status progress { fraction } aggregates { metrics { key value low high } } } } } }'), []);
});

test(`more than ${MAX_DEPTH} levels is refused, through fragments too`, () => {
  const nested = (depth: number): string => (depth === 0 ? 'id' : `sourceRun { ${nested(depth - 1)} }`);
  assert.deepEqual(errorsOf(`{ run(id: "x") { ${nested(MAX_DEPTH - 2)} } }`), []);
  assert.deepEqual(errorsOf(`{ run(id: "x") { ${nested(MAX_DEPTH)} } }`), ['QUERY_TOO_DEEP']);
  assert.deepEqual(errorsOf(`query { run(id: "x") { ...deep } } fragment deep on Run { ${nested(MAX_DEPTH)} }`), ['QUERY_TOO_DEEP']);
});

test(`the cost grows with the page size asked for, variables included, and is refused over ${MAX_COST}`, () => {
  const query =
    'query ($n: Int) { runs(first: $n) { edges { node { timeline { status at } aggregates { byRelation { relation metrics { key value low high } } } } } } }';
  assert.deepEqual(errorsOf(query, { n: 10 }), []);
  assert.deepEqual(errorsOf(query, { n: 100 }), ['QUERY_TOO_COSTLY']);
});

test('a leaderboard with every row compared to its baseline, and a page of images with their guidance traces, are within the limits', () => {
  assert.deepEqual(
    errorsOf(
      '{ leaderboard(benchmark: "visor") { rank run { id } metrics { key value low high } versusBaseline { deltas { key value } beyondNoise comparison { mcnemarP meanDifference } baseline { id } } } }',
    ),
    [],
  );
  assert.deepEqual(errorsOf('{ images(runId: "x", first: 100) { edges { node { id url guidance { step loss centroids } } } } }'), []);
});

test("a variable's default counts as the value it is: $n: Int = 100 costs as first: 100 does", () => {
  const page = '{ edges { node { id timeline { status } } } }';
  const literal = costOf(`{ runs(first: 100) ${page} }`);
  assert.equal(costOf(`query ($n: Int = 100) { runs(first: $n) ${page} }`), literal);
  assert.equal(costOf(`query ($n: Int = 100) { runs(first: $n) ${page} }`, { n: 100 }), literal);
  assert.ok(costOf(`query ($n: Int = 100) { runs(first: $n) ${page} }`, { n: 5 }) < literal / 10);
  // A variable that does not coerce fails at execution; until then it is priced as the largest page.
  assert.equal(costOf(`query ($n: Int) { runs(first: $n) ${page} }`, { n: 'many' }), literal);
});

test("introspection is priced by the schema's real sizes; aliases each pay", () => {
  const types = Object.keys(schema.getTypeMap()).length;
  assert.equal(costOf('{ __schema { types { name } } }'), 2 + types);
  const one = costOf('{ __schema { types { name fields { name type { name } } } } }');
  assert.ok(one > types * 5, `${one}`);
  const aliased = Array.from({ length: 1000 }, (_, i) => `a${i}: __schema { types { name fields { name } } }`).join(' ');
  assert.equal(costOf(`{ ${aliased} }`), 1000 * costOf('{ __schema { types { name fields { name } } } }'));
  assert.deepEqual(errorsOf(`{ ${aliased} }`), ['QUERY_TOO_COSTLY']);
  assert.equal(costOf('{ __typename a: __typename }'), 2);
  // Development tools' whole-schema query is within the introspection ceiling (above MAX_COST), and charged.
  const full = costOf(getIntrospectionQuery());
  assert.ok(full > MAX_COST / 2 && full <= MAX_INTROSPECTION_COST, `${full}`);
  assert.deepEqual(errorsOf(getIntrospectionQuery()), []);
  // ... but not when it comes with other fields, whose limit is MAX_COST.
  assert.deepEqual(
    errorsOf(
      `{ models { name } ${getIntrospectionQuery()
        .replace(/^\s*query IntrospectionQuery \{/, '')
        .replace(/\}\s*fragment[\s\S]*$/, '')} } ${getIntrospectionQuery().slice(getIntrospectionQuery().indexOf('fragment'))}`,
    ),
    ['QUERY_TOO_COSTLY'],
  );
});

test("compareRuns and a leaderboard row's comparison are priced by their work", () => {
  assert.equal(costOf('query ($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairs } }', { a: 'x', b: 'y' }), COMPARISON_COST + 1);
  const aliases = Array.from({ length: Math.ceil(MAX_COST / COMPARISON_COST) + 1 }, (_, i) => `c${i}: compareRuns(a: "x", b: "y") { pairs }`).join(' ');
  assert.deepEqual(errorsOf(`{ ${aliases} }`), ['QUERY_TOO_COSTLY']);
  assert.ok(costOf('{ leaderboard(benchmark: "visor") { versusBaseline { beyondNoise } } }') >= 10 * COMPARISON_COST);
});
