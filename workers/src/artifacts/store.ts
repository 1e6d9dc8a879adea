/**
 * Where images live between the stages and for the API to serve: addressed by artifact key only
 * (keys.ts), never by a path from outside. Keys form a tree: `runs/r1/images/12_0.png` lies under
 * the prefix `runs/r1/images` (and `runs/r1`, `runs`); a prefix covers whole segments, so `runs/r1`
 * does not cover `runs/r10/...`.
 *
 * Two implementations: LocalArtifactStore (a directory) here and S3ArtifactStore (a bucket of an
 * S3-compatible service, s3-store.ts); config.ts picks one from the environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { checkArtifactKey } from './keys.ts';

export interface ArtifactStore {
  /** for logs: e.g. `local:/srv/artifacts` */
  readonly description: string;
  /** Stores bytes under key, replacing what was there; readers never see a partial object. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes; ArtifactNotFoundError when there is none. */
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** The keys under `prefix` (`prefix/...`, not an object named `prefix` itself), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes the object `prefix` and every object under it; returns how many were removed. */
  delete(prefix: string): Promise<number>;
}

export class ArtifactNotFoundError extends Error {
  constructor(
    readonly key: string,
    where: string,
  ) {
    super(`artifact ${key} not found in ${where}`);
  }
}

/** The repository's `.artifacts/` (gitignored): the default store shared by the API and workers on one machine. */
export const DEFAULT_ARTIFACT_DIR = resolve(import.meta.dirname, '../../../.artifacts');

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A directory: key `a/b.png` is the file `ROOT/a/b.png`. */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = `local:${this.root}`;
  }

  private path(key: string): string {
    return join(this.root, checkArtifactKey(key));
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // A dot-name, which no key can spell, unique per call so that concurrent puts never share one.
    const tmp = join(dirname(path), `.put-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.path(key);
    try {
      return await readFile(path);
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') throw new ArtifactNotFoundError(key, this.description);
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue; // temporary files of unfinished puts
        const key = `${keyPrefix}/${entry.name}`;
        if (entry.isDirectory()) await walk(join(dir, entry.name), key);
        else if (entry.isFile()) keys.push(key);
      }
    };
    await walk(this.path(prefix), prefix);
    return keys.sort();
  }

  async delete(prefix: string): Promise<number> {
    const path = this.path(prefix);
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      if (isMissing(err)) return 0;
      throw err;
    }
    const count = info.isDirectory() ? (await this.list(prefix)).length : 1;
    await rm(path, { recursive: true, force: true });
    return count;
  }
}
