/**
 * `infsplign upload DIR`: a folder of images into the artifact store. With `--api`, the API hands out
 * the prefix (createUpload, for the token's team) and the images are registered there as the team's
 * image set (registerImageSet): a prefix belongs to the team that uploaded to it. Without, they go
 * under a prefix of one's choosing, for the workers' own use (the API registers no such prefix).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { artifactKeyProblem, joinKey } from '../../artifacts/keys.ts';
import { artifactStoreFromEnv, ArtifactStoreConfigError } from '../../artifacts/config.ts';
import { decodePng } from '../../image/png.ts';
import { z } from 'zod';
import { CliError, parseOptions, type Command } from '../command.ts';

const USAGE = `usage: infsplign upload DIR --api URL        (token in INFSPLIGN_TOKEN)
       infsplign upload DIR [--prefix KEY]

Puts the PNGs of DIR named {ID}_{K}.png (prompt id, image index; the names evaluate reads) into the
artifact store under PREFIX/{ID}_{K}.png: the bucket of ARTIFACT_STORE=s3://BUCKET[/PREFIX] (with
S3_ENDPOINT, S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), else the folder ARTIFACT_DIR
(default the repository's .artifacts/).
Other files are ignored; a .png named otherwise, or one that is not a readable PNG, is an error and
nothing is uploaded. Prints the prefix (first line) and the count; with --api also the image set's id.
  --api     the API (e.g. http://127.0.0.1:4000; or INFSPLIGN_API_URL): it hands out the prefix for
            the team of the token in INFSPLIGN_TOKEN, and the images are registered there as the
            team's image set, ready for an EVALUATE_ONLY run. Only that team can register the prefix.
  --prefix  without --api: where to put them: '/'-separated segments of letters, digits, _, - and .
            (none starting with .); it must hold nothing yet. Default: uploads/<UTC time>-<random>.`;

const IMAGE_NAME = /^(\d+)_(\d+)\.png$/;

interface Upload {
  name: string;
  bytes: Buffer;
}

/** Every image of the folder, checked, before anything is written: a half-uploaded set would be registered as if whole. */
function readImages(dir: string): Upload[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`${dir}: no such folder`);
  const byName = new Map<string, string>();
  const uploads: Upload[] = [];
  for (const file of readdirSync(dir).sort()) {
    const path = join(dir, file);
    if (!file.toLowerCase().endsWith('.png') || !statSync(path).isFile()) continue;
    const match = IMAGE_NAME.exec(file);
    if (!match) throw new CliError(`${path}: images must be named {ID}_{K}.png (prompt id, underscore, image index), e.g. 12_0.png`);
    // One name per image: 7_0.png and 007_0.png would be the same image twice.
    const name = `${Number(match[1])}_${Number(match[2])}.png`;
    const earlier = byName.get(name);
    if (earlier) throw new CliError(`${path}: the same image as ${earlier}`);
    byName.set(name, path);
    const bytes = readFileSync(path);
    decodePng(bytes, path);
    uploads.push({ name, bytes });
  }
  if (uploads.length === 0) throw new CliError(`${dir}: no images named {ID}_{K}.png`);
  return uploads;
}

/** The API's answer to one GraphQL request; its errors (and HTTP failures) as a CliError naming the step. */
async function callApi<T>(api: string, token: string, step: string, query: string, variables: Record<string, unknown>, data: z.ZodType<T>): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${api.replace(/\/+$/, '')}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new CliError(`${step}: the API at ${api} is not answering (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})`);
  }
  const body = z
    .object({ data: data.nullish(), errors: z.array(z.object({ message: z.string() })).optional() })
    .safeParse(await response.json().catch(() => null));
  if (!body.success) throw new CliError(`${step}: the API answered HTTP ${response.status} without a GraphQL answer`);
  if (body.data.errors?.length || !body.data.data) throw new CliError(`${step}: ${body.data.errors?.[0]?.message ?? `HTTP ${response.status}`}`);
  return body.data.data;
}

function generatedPrefix(): string {
  const time = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `uploads/${time}-${randomBytes(4).toString('hex')}`;
}

export const uploadCommand: Command = {
  name: 'upload',
  summary: 'put a folder of {ID}_{K}.png images into the artifact store',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { prefix: { type: 'string' }, api: { type: 'string' } }, USAGE);
    if (positionals.length !== 1) throw new CliError(`expected one folder, got ${positionals.length}\n\n${USAGE}`, 2);
    const api = values.api ?? (process.env.INFSPLIGN_API_URL || undefined);
    const token = process.env.INFSPLIGN_TOKEN;
    if (api !== undefined && values.prefix !== undefined) throw new CliError('--prefix: with --api the API hands out the prefix; leave --prefix out', 2);
    if (api !== undefined && !token)
      throw new CliError('environment: INFSPLIGN_TOKEN must hold an API token of the team to upload for (npm run token -- --team NAME)', 2);
    if (api !== undefined && !/^https?:\/\/[^\s/]+/.test(api)) throw new CliError(`--api: expected the API's URL, e.g. http://127.0.0.1:4000, got '${api}'`, 2);
    if (values.prefix !== undefined) {
      const problem = artifactKeyProblem(values.prefix);
      if (problem) throw new CliError(`--prefix: ${problem}`, 2);
    }

    const images = readImages(positionals[0]!);
    let store;
    try {
      store = artifactStoreFromEnv();
    } catch (err) {
      if (err instanceof ArtifactStoreConfigError) throw new CliError(`environment: ${err.message}`, 2);
      throw err;
    }
    const prefix = api
      ? (await callApi(api, token!, 'createUpload', 'mutation { createUpload { prefix } }', {}, z.object({ createUpload: z.object({ prefix: z.string() }) })))
          .createUpload.prefix
      : (values.prefix ?? generatedPrefix());
    const problem = artifactKeyProblem(prefix);
    if (problem) throw new CliError(`the prefix to upload to, ${prefix}: ${problem}`);
    const existing = await store.list(prefix);
    if (existing.length > 0 || (await store.exists(prefix)))
      throw new CliError(`${prefix} already holds ${existing.length || 1} objects in ${store.description}: choose another --prefix`);
    for (const image of images) await store.put(joinKey(prefix, image.name), image.bytes);
    console.log(prefix);
    console.log(`${images.length} images uploaded to ${store.description}`);
    if (api) {
      const query = 'mutation ($prefix: String!) { registerImageSet(prefix: $prefix) { id imageCount } }';
      const { registerImageSet: set } = await callApi(
        api,
        token!,
        'registerImageSet',
        query,
        { prefix },
        z.object({ registerImageSet: z.object({ id: z.string(), imageCount: z.number() }) }),
      );
      console.log(`image set ${set.id} (${set.imageCount} images) registered for the token's team`);
    }
  },
};
