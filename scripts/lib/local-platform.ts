/**
 * The platform on this machine, as `npm run demo` and `npm run arena` start it: a PostgreSQL and a
 * Redis of their own under a state folder (as root the cluster under /var/lib/postgresql/, which the
 * server's `postgres` user can enter; or DATABASE_URL / REDIS_URL), migrated and seeded, an API token,
 * the API and a worker as processes with their logs in the state folder. Each started service is
 * pushed onto `started` as soon as it runs, so that the caller can stop what it started on failure.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createToken } from '../../apps/api/src/auth/tokens.ts';
import { closePrisma, createPrisma } from '../../apps/api/src/db/client.ts';
import { migrate } from '../../apps/api/src/db/migrate.ts';
import { seed } from '../../apps/api/src/db/seed.ts';
import { startDemoPostgres, startDemoRedis, startProcess, type ProcessService, type Service } from '../demo/services.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface LocalPlatform {
  /** `.demo`, `.arena`: data, logs (`logs/`), artifacts (`artifacts/`), the API token (`token`) */
  state: string;
  /** names the root cluster's folder (/var/lib/postgresql/infsplign-<name>/) */
  name: string;
  started: Service[];
  onUnexpectedExit: (name: string, logFile: string) => void;
}

export const logsDir = (platform: LocalPlatform) => join(platform.state, 'logs');
export const artifactDir = (platform: LocalPlatform) => join(platform.state, 'artifacts');

/**
 * Where the cluster lives: STATE/postgres, or, as root, under the postgres user's own
 * /var/lib/postgresql (the server runs as that user, who may not be able to enter a clone in /root).
 */
function postgresDir(platform: LocalPlatform): string {
  if (userInfo().uid !== 0) return join(platform.state, 'postgres');
  return join(`/var/lib/postgresql/infsplign-${platform.name}`, createHash('sha256').update(ROOT).digest('hex').slice(0, 12));
}

/** PostgreSQL and Redis: the given URLs, or servers of the platform's own on these ports. */
export async function startDatabases(
  platform: LocalPlatform,
  ports: { pg: number; redis: number },
  given: { databaseUrl?: string; redisUrl?: string },
): Promise<{ databaseUrl: string; redisUrl: string }> {
  mkdirSync(logsDir(platform), { recursive: true });
  let databaseUrl = given.databaseUrl;
  if (!databaseUrl) {
    const pg = await startDemoPostgres(postgresDir(platform), ports.pg);
    platform.started.push(pg.service);
    databaseUrl = pg.url;
  }
  let redisUrl = given.redisUrl;
  if (!redisUrl) {
    const redis = await startDemoRedis(join(platform.state, 'redis'), ports.redis, join(logsDir(platform), 'redis.log'));
    platform.started.push(redis.service);
    redisUrl = redis.url;
  }
  console.log(`PostgreSQL ${databaseUrl}\nRedis      ${redisUrl}`);
  return { databaseUrl, redisUrl };
}

/**
 * Migrates and seeds the database, and creates an API token for `team`, written to STATE/token (the
 * previous token of the same label is revoked first: a team may hold only so many).
 */
export async function prepareDatabase(platform: LocalPlatform, databaseUrl: string, team: string, tokenLabel: string): Promise<string> {
  const migrations = await migrate(databaseUrl);
  console.log(
    `migrations: ${migrations.applied.length ? `applied ${migrations.applied.join(', ')}` : `all ${migrations.alreadyApplied.length} applied already`}`,
  );
  const prisma = createPrisma(databaseUrl);
  try {
    const summary = await seed(prisma);
    for (const benchmark of new Set(summary.promptSets.map((s) => s.benchmark))) {
      const sets = summary.promptSets.filter((s) => s.benchmark === benchmark);
      console.log(`${benchmark}: ${sets.map((s) => `${s.name} (${s.prompts} prompts)`).join(', ')}`);
    }
    console.log(`models: ${summary.models.map((m) => (m.problem ? `${m.name} (${m.problem})` : m.name)).join(', ')}`);
    for (const warning of summary.warnings) console.log(`note: ${warning}`);
    const { id: teamId } = await prisma.team.upsert({ where: { name: team }, create: { name: team }, update: {} });
    await prisma.apiToken.updateMany({ where: { teamId, label: tokenLabel, revokedAt: null }, data: { revokedAt: new Date() } });
    const { token } = await createToken(prisma, teamId, tokenLabel);
    const tokenFile = join(platform.state, 'token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    chmodSync(tokenFile, 0o600);
    console.log(`API token for team '${team}' written to ${relative(ROOT, tokenFile)} (readable by you only)`);
    return token;
  } finally {
    await closePrisma(prisma);
  }
}

/** The API and one worker (generate and evaluate queues, on the CPU) as processes; not yet waited for. */
export function startApiAndWorker(
  platform: LocalPlatform,
  urls: { databaseUrl: string; redisUrl: string },
  options: { apiPort: number; workerHealthPort: number; workerConcurrency: number; apiEnv?: Record<string, string> },
): { api: ProcessService; worker: ProcessService; apiUrl: string } {
  const artifacts = artifactDir(platform);
  const api = startProcess(
    'API',
    ['--import', 'tsx', 'apps/api/src/main.ts'],
    { DATABASE_URL: urls.databaseUrl, REDIS_URL: urls.redisUrl, ARTIFACT_DIR: artifacts, PORT: String(options.apiPort), HOST: '127.0.0.1', ...options.apiEnv },
    join(logsDir(platform), 'api.log'),
    platform.onUnexpectedExit,
  );
  platform.started.push(api);
  const worker = startProcess(
    'worker',
    [
      '--import',
      'tsx',
      'workers/src/jobs/worker-main.ts',
      '--queues',
      'generate,evaluate',
      '--concurrency',
      String(options.workerConcurrency),
      '--device',
      'cpu',
    ],
    { REDIS_URL: urls.redisUrl, ARTIFACT_DIR: artifacts, WORKER_HEALTH_PORT: String(options.workerHealthPort) },
    join(logsDir(platform), 'worker.log'),
    platform.onUnexpectedExit,
  );
  platform.started.push(worker);
  return { api, worker, apiUrl: `http://127.0.0.1:${options.apiPort}` };
}

/** Stops the started services, last first, saying so; failures are reported, not thrown. */
export async function stopServices(started: Service[]): Promise<void> {
  for (const service of [...started].reverse()) {
    process.stdout.write(`stopping ${service.name} ... `);
    await service.stop().then(
      () => console.log('done'),
      (err: Error) => console.log(`failed: ${err.message}`),
    );
  }
}

interface GraphQLAnswer {
  data?: Record<string, any>;
  errors?: { message: string }[];
}

export type GraphQLClient = (query: string, variables?: Record<string, unknown>) => Promise<Record<string, any>>;

/** A GraphQL client of the API with a bearer token; errors are thrown with the API's messages. */
export function graphqlClient(apiUrl: string, token: string): GraphQLClient {
  return async (query, variables = {}) => {
    const response = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as GraphQLAnswer;
    if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
    return body.data!;
  };
}
