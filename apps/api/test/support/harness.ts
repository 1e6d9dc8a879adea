/**
 * An API on real services for tests: a throwaway PostgreSQL (migrated and seeded), a throwaway
 * Redis, a temporary artifact store, the API server in-process on a free port, two teams with a
 * token each, and a `gql` helper that posts to /graphql.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import { defaultParams, type ModelDefaults } from '@infsplign/workers/contracts';
import { pino } from 'pino';
import { startPostgres, type PostgresServer } from '../../../../test/support/postgres.ts';
import { startRedis, type RedisServer } from '../../../../test/support/redis.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { closePrisma, createPrisma, type PrismaClient } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { seed } from '../../src/db/seed.ts';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../src/server.ts';

export interface GraphQLResponse {
  status: number;
  data?: Record<string, any> | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; fieldErrors?: { path: (string | number)[]; message: string }[] } }[];
}

export interface Harness {
  api: ApiServer;
  /** a separate client, for checking what the API wrote */
  prisma: PrismaClient;
  /** the API's database, for a second API process on the same data */
  databaseUrl: string;
  postgres: PostgresServer;
  redis: RedisServer;
  artifactDir: string;
  tokens: { alpha: string; beta: string };
  gql(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse>;
  /** Asks createUpload for the team's prefix (as `infsplign upload` does) and puts `files` (name -> bytes) there; answers the prefix. */
  upload(token: string, files: Record<string, Uint8Array>): Promise<string>;
  close(): Promise<void>;
}

const TEST_LAYERS = ['up_blocks.1.attentions.0.transformer_blocks.0.attn2'];

/** The test model's InfSplign defaults: its family's, with what a custom family lacks (cfg_scale, layers). */
export const TEST_MODEL_DEFAULTS = { ...defaultParams('custom'), cfg_scale: 7.5, layers: TEST_LAYERS, steps: 4 };

/** The same as the seed stores a model's (contracts/model-defaults.ts): its sampler settings, InfSplign's layers, Attend-and-Excite's map resolution. */
export const TEST_MODEL_STORED_DEFAULTS = {
  sampler: { cfg_scale: 7.5, steps: 4 },
  methods: { infsplign: { layers: TEST_LAYERS }, 'attend-and-excite': { attention_res: 8, normalize_eot: true } },
} satisfies ModelDefaults;

/** `options` override the API's (e.g. a logger that keeps what it writes, other rate limits). */
export async function startHarness(name: string, options: Partial<ApiServerOptions> = {}): Promise<Harness> {
  const scratch = mkdtempSync(join(tmpdir(), `infsplign-api-${name}-`));
  const postgres = await startPostgres();
  const redis = await startRedis();
  const databaseUrl = await postgres.createDatabase(name);
  await migrate(databaseUrl);
  const prisma = createPrisma(databaseUrl);
  // No models from the repository's registry: the tests add their own, which workers never run.
  const registryFile = join(scratch, 'registry.json');
  writeFileSync(registryFile, '{}');
  await seed(prisma, { registryFile });
  await prisma.model.create({ data: { name: 'tiny-test', family: 'custom', location: '/nonexistent', defaultParams: TEST_MODEL_STORED_DEFAULTS } });
  const tokens = {
    alpha: (await createToken(prisma, (await prisma.team.create({ data: { name: 'alpha' } })).id, 'test')).token,
    beta: (await createToken(prisma, (await prisma.team.create({ data: { name: 'beta' } })).id, 'test')).token,
  };
  const artifactDir = join(scratch, 'artifacts');
  const api = await createApiServer({
    databaseUrl,
    redisUrl: redis.url,
    artifactDir,
    port: 0,
    logger: pino({ level: process.env.API_TEST_LOG ?? 'silent' }),
    sweepIntervalMs: 0,
    reconcileIntervalMs: 0,
    ...options,
  });
  const harness: Harness = {
    api,
    prisma,
    databaseUrl,
    postgres,
    redis,
    artifactDir,
    tokens,
    async gql(query, variables = {}, token) {
      const response = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, 'status'>) };
    },
    async upload(token, files) {
      const created = await harness.gql('mutation { createUpload { prefix } }', {}, token);
      if (!created.data?.createUpload) throw new Error(`createUpload: ${JSON.stringify(created.errors)}`);
      const prefix = created.data.createUpload.prefix as string;
      const store = new LocalArtifactStore(artifactDir);
      for (const [name, bytes] of Object.entries(files)) await store.put(`${prefix}/${name}`, bytes);
      return prefix;
    },
    async close() {
      await api.close();
      await closePrisma(prisma);
      await redis.stop();
      await postgres.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Polls until `check` returns a value other than undefined (or the time is up). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
