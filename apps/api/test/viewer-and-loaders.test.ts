/**
 * What the web app's sign-in and submit form ask of the API (issue 17 item 5): `viewer` (whose token
 * a request carries), a model's recorded generation time; and the per-request batching of the
 * fields that look something up for their parent (item 8): a page of runs costs one statement per
 * such field, not one per run. On real PostgreSQL and Redis.
 */
import { ApolloServer } from '@apollo/server';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { createRequestContext, type RequestContext } from '../src/graphql/context.ts';
import { resolvers, typeDefs } from '../src/graphql/schema.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { allCorrect, baselineInput, finishRun } from './support/stand-in-worker.ts';

let h: Harness;

before(async () => {
  h = await startHarness('viewer');
});

after(async () => {
  await h?.close();
});

test('viewer: null without a token, the team and token with one, UNAUTHENTICATED for a refused one', async () => {
  const VIEWER = '{ viewer { team { name } token { name prefix expiresAt revokedAt } } }';
  assert.deepEqual((await h.gql(VIEWER)).data, { viewer: null });
  const { data, errors } = await h.gql(VIEWER, {}, h.tokens.beta);
  assert.equal(errors, undefined);
  assert.equal(data!.viewer.team.name, 'beta');
  assert.equal(data!.viewer.token.prefix, h.tokens.beta.split('_')[1]);
  assert.equal(data!.viewer.token.revokedAt, null);
  assert.ok(Date.parse(data!.viewer.token.expiresAt) > Date.now());
  const refused = await h.gql(VIEWER, {}, `isa_000000000000_${'x'.repeat(43)}`);
  assert.equal(refused.errors?.[0].extensions?.code, 'UNAUTHENTICATED');
});

test("generationTime: the mean of the images' recorded times over the model's finished runs, per method; null before any", async () => {
  const TIMES =
    '{ models { name baseline: generationTime(method: "baseline") { secondsPerImage images } infsplign: generationTime(method: "infsplign") { secondsPerImage images } } }';
  const before = (await h.gql(TIMES)).data!.models.find((m: any) => m.name === 'tiny-test');
  assert.deepEqual(before, { name: 'tiny-test', baseline: null, infsplign: null });
  await finishRun(h, baselineInput({ limit: 5 }), allCorrect);
  const after = (await h.gql(TIMES)).data!.models.find((m: any) => m.name === 'tiny-test');
  // The stand-in worker records 12 ms per image; 5 prompts x 2 images.
  assert.deepEqual(after, { name: 'tiny-test', baseline: { secondsPerImage: 0.012, images: 10 }, infsplign: null });
});

/** The Prisma client with a count of the operations made through it, by model and operation. */
function counting(prisma: PrismaClient): { client: PrismaClient; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const client = prisma.$extends({
    query: {
      $allOperations({ model, operation, args, query }) {
        const key = `${model ?? '$raw'}.${operation}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return query(args);
      },
    },
  }) as unknown as PrismaClient;
  return { client, counts };
}

test("a page of runs asking each run's timeline, image set, source run and prompt count makes one statement per field, not one per run", async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { errors } = await h.gql(
      'mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }',
      { input: baselineInput({ seed, limit: 2 }) },
      h.tokens.alpha,
    );
    assert.equal(errors, undefined);
  }
  const { client, counts } = counting(h.prisma);
  const context: RequestContext = createRequestContext({ ...h.api.services, prisma: client }, undefined, '127.0.0.1');
  const apollo = new ApolloServer<RequestContext>({ typeDefs, resolvers });
  const response = await apollo.executeOperation(
    {
      query:
        '{ runs(first: 10) { edges { node { id timeline { status } imageSet { id } sourceRun { id } promptSet { promptCount } aggregates { promptsScored } } } } }',
    },
    { contextValue: context },
  );
  assert.equal(response.body.kind, 'single');
  const result = response.body.kind === 'single' ? response.body.singleResult : null;
  assert.equal(result?.errors, undefined);
  const nodes = (result!.data as { runs: { edges: { node: { timeline: unknown[]; imageSet: unknown } }[] } }).runs.edges.map((e) => e.node);
  assert.ok(nodes.length >= 6, `${nodes.length} runs`);
  assert.ok(nodes.every((n) => n.timeline.length > 0 && n.imageSet !== null));
  assert.equal(counts.get('RunEvent.findMany'), 1, 'timelines');
  assert.equal(counts.get('ImageSet.findMany'), 1, 'image sets');
  assert.equal(counts.get('Prompt.groupBy'), 1, 'prompt counts');
  // One finished run (the previous test's): its aggregates and its benchmark's definitions, once each.
  assert.equal(counts.get('RunAggregate.findMany'), 1, 'aggregates');
  assert.equal(counts.get('Run.findMany'), 1, 'the page itself; no run is a rescore, so no source run is read');
});
