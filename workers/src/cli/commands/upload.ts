/** `infsplign upload DIR`: a folder of images into the artifact store, as an image set the API can register by its prefix. */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { artifactKeyProblem, joinKey } from '../../artifacts/keys.ts';
import { artifactStoreFromEnv, ArtifactStoreConfigError } from '../../artifacts/config.ts';
import { decodePng } from '../../image/png.ts';
import { CliError, parseOptions, type Command } from '../command.ts';

const USAGE = `usage: infsplign upload DIR [--prefix KEY]

Puts the PNGs of DIR named {ID}_{K}.png (prompt id, image index; the names evaluate reads) into the
artifact store under PREFIX/{ID}_{K}.png: the bucket of ARTIFACT_STORE=s3://BUCKET[/PREFIX] (with
S3_ENDPOINT, S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), else the folder ARTIFACT_DIR
(default the repository's .artifacts/).
Other files are ignored; a .png named otherwise, or one that is not a readable PNG, is an error and
nothing is uploaded. Prints the prefix (first line; register the image set with it) and the count.
  --prefix  where to put them: '/'-separated segments of letters, digits, _, - and . (none starting
            with .); it must hold nothing yet. Default: uploads/<UTC time>-<random>.`;

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

function generatedPrefix(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `uploads/${time}-${randomBytes(4).toString('hex')}`;
}

export const uploadCommand: Command = {
  name: 'upload',
  summary: 'put a folder of {ID}_{K}.png images into the artifact store',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { prefix: { type: 'string' } }, USAGE);
    if (positionals.length !== 1) throw new CliError(`expected one folder, got ${positionals.length}\n\n${USAGE}`, 2);
    const prefix = values.prefix ?? generatedPrefix();
    const problem = artifactKeyProblem(prefix);
    if (problem) throw new CliError(`--prefix: ${problem}`, 2);

    const images = readImages(positionals[0]!);
    let store;
    try {
      store = artifactStoreFromEnv();
    } catch (err) {
      if (err instanceof ArtifactStoreConfigError) throw new CliError(`environment: ${err.message}`, 2);
      throw err;
    }
    const existing = await store.list(prefix);
    if (existing.length > 0 || (await store.exists(prefix))) throw new CliError(`${prefix} already holds ${existing.length || 1} objects in ${store.description}: choose another --prefix`);
    for (const image of images) await store.put(joinKey(prefix, image.name), image.bytes);
    console.log(prefix);
    console.log(`${images.length} images uploaded to ${store.description}`);
  },
};
