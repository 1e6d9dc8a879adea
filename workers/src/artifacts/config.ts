/**
 * Which artifact store a process uses. The environment decides it for every process (API, worker,
 * `infsplign upload`):
 * - `ARTIFACT_STORE=s3://BUCKET[/PREFIX]`: a bucket of an S3-compatible service, with `S3_ENDPOINT`
 *   (the service's URL), `S3_REGION` (default: the region in an AWS endpoint's host name, else
 *   us-east-1), optionally `S3_FORCE_PATH_STYLE` (true/false; default true but for AWS endpoints) and
 *   the credentials: `AWS_ACCESS_KEY_ID` with `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), or
 *   neither, and the AWS SDK's default chain finds some (AWS_PROFILE and the shared files, SSO, web
 *   identity, a container or instance role);
 * - otherwise a local directory: `ARTIFACT_DIR`, default the repository's `.artifacts/`.
 * The config is plain data, so the worker hands it to its job threads.
 */
import { z } from 'zod';
import { describeZodError } from '../util/read-data-file.ts';
import { S3ArtifactStore, s3BucketProblem, s3EndpointProblem, s3PrefixProblem, type S3StoreConfig } from './s3-store.ts';
import { DEFAULT_ARTIFACT_DIR, LocalArtifactStore, type ArtifactStore } from './store.ts';

export type ArtifactStoreConfig = { kind: 'local'; dir: string } | ({ kind: 's3' } & S3StoreConfig);

export class ArtifactStoreConfigError extends Error {}

export function createArtifactStore(config: ArtifactStoreConfig): ArtifactStore {
  return config.kind === 'local' ? new LocalArtifactStore(config.dir) : new S3ArtifactStore(config);
}

/** For options that take a store config or, as a shorthand, a local directory (tests pass `artifactDir`). */
export function storeConfigFromOptions(options: { store?: ArtifactStoreConfig; artifactDir?: string }, who: string): ArtifactStoreConfig {
  if (options.store) return options.store;
  if (options.artifactDir) return { kind: 'local', dir: options.artifactDir };
  throw new ArtifactStoreConfigError(`${who}: give the artifact store (store) or a local directory (artifactDir)`);
}

const blankIsUnset = (value: unknown) => (value === '' ? undefined : value);
const required = (what: string) => z.preprocess(blankIsUnset, z.string({ error: `must be set when ARTIFACT_STORE is s3://...: ${what}` }));
const optional = z.preprocess(blankIsUnset, z.string().optional());
const refineWith = (problem: (value: string) => string | null) => (value: string, ctx: z.RefinementCtx) => {
  const found = problem(value);
  if (found) ctx.addIssue({ code: 'custom', message: found });
};

const S3_URL = /^s3:\/\/([^/]*)(?:\/(.*?))?\/?$/;

const s3EnvSchema = z
  .object({
    ARTIFACT_STORE: z
      .string()
      .regex(S3_URL, 'expected s3://BUCKET or s3://BUCKET/PREFIX (or leave it unset for a local directory, ARTIFACT_DIR)')
      .transform((url) => {
        const [, bucket, prefix] = S3_URL.exec(url)!;
        return { bucket: bucket!, prefix: prefix || undefined };
      })
      .superRefine(({ bucket, prefix }, ctx) => {
        const problem = s3BucketProblem(bucket) ?? (prefix === undefined ? null : s3PrefixProblem(prefix));
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    S3_ENDPOINT: required('the service URL, e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com').pipe(
      z.string().superRefine(refineWith(s3EndpointProblem)),
    ),
    S3_REGION: optional,
    AWS_ACCESS_KEY_ID: optional,
    AWS_SECRET_ACCESS_KEY: optional,
    AWS_SESSION_TOKEN: optional,
    S3_FORCE_PATH_STYLE: z.preprocess(blankIsUnset, z.enum(['true', 'false'], { error: 'S3_FORCE_PATH_STYLE must be true or false' }).optional()),
  })
  .superRefine((env, ctx) => {
    // Static credentials come as a pair; with neither, the SDK's chain looks for some.
    const pair = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
    const given = pair.filter((name) => env[name] !== undefined);
    if (given.length === 1) {
      const missing = pair.find((name) => env[name] === undefined)!;
      ctx.addIssue({ code: 'custom', path: [missing], message: `must be set when ${given[0]} is (or unset both for the AWS SDK's default credential chain)` });
    }
    if (env.AWS_SESSION_TOKEN !== undefined && given.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['AWS_SESSION_TOKEN'], message: 'goes with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' });
    }
  });

/** `s3.eu-west-1.amazonaws.com` (or `s3-eu-west-1.`, `s3.dualstack.eu-west-1.`) names its region. */
function regionOfEndpoint(endpoint: string): string | undefined {
  return /^s3[.-](?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(new URL(endpoint).hostname)?.[1];
}

/** The store the environment names; an ArtifactStoreConfigError names the variable that is missing or wrong. */
export function artifactStoreConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ArtifactStoreConfig {
  if (!env.ARTIFACT_STORE) return { kind: 'local', dir: env.ARTIFACT_DIR || DEFAULT_ARTIFACT_DIR };
  const parsed = s3EnvSchema.safeParse(env);
  if (!parsed.success) throw new ArtifactStoreConfigError(describeZodError(parsed.error));
  const { ARTIFACT_STORE: where, S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: pathStyle } = parsed.data;
  return {
    kind: 's3',
    endpoint,
    bucket: where.bucket,
    ...(where.prefix !== undefined && { prefix: where.prefix }),
    region: parsed.data.S3_REGION ?? regionOfEndpoint(endpoint) ?? 'us-east-1',
    ...(parsed.data.AWS_ACCESS_KEY_ID !== undefined && { accessKeyId: parsed.data.AWS_ACCESS_KEY_ID }),
    ...(parsed.data.AWS_SECRET_ACCESS_KEY !== undefined && { secretAccessKey: parsed.data.AWS_SECRET_ACCESS_KEY }),
    ...(parsed.data.AWS_SESSION_TOKEN !== undefined && { sessionToken: parsed.data.AWS_SESSION_TOKEN }),
    ...(pathStyle !== undefined && { forcePathStyle: pathStyle === 'true' }),
  };
}

export function artifactStoreFromEnv(env: NodeJS.ProcessEnv = process.env): ArtifactStore {
  return createArtifactStore(artifactStoreConfigFromEnv(env));
}
