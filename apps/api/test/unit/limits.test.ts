/** Query depth and cost on the real schema, measured before anything runs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { MAX_COST, MAX_DEPTH, queryLimitErrors } from '../../src/graphql/limits.ts';
import { typeDefs } from '../../src/graphql/schema.ts';

const schema = buildSchema(typeDefs);

function errorsOf(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return queryLimitErrors(schema, document, operation, variables).map((e) => e.extensions.code);
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
  const query = 'query ($n: Int) { runs(first: $n) { edges { node { timeline { status at } aggregates { byRelation { relation metrics { key value low high } } } } } } }';
  assert.deepEqual(errorsOf(query, { n: 10 }), []);
  assert.deepEqual(errorsOf(query, { n: 100 }), ['QUERY_TOO_COSTLY']);
});

test('a leaderboard with every row compared to its baseline, and a page of images with their guidance traces, are within the limits', () => {
  assert.deepEqual(errorsOf('{ leaderboard(benchmark: "visor") { rank run { id } metrics { key value low high } versusBaseline { deltas { key value } beyondNoise comparison { mcnemarP meanDifference } baseline { id } } } }'), []);
  assert.deepEqual(errorsOf('{ images(runId: "x", first: 100) { edges { node { id url guidance { step loss centroids } } } } }'), []);
});
