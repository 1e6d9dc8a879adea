/**
 * The on-disk cache of prepared (guided) U-Nets, shared by every process of a machine (CLI runs,
 * worker processes and their threads). An entry is a folder `guided-<unet>-<structure>` holding
 * `model.onnx` (the guided graph), `weights.bin` (the U-Net's weights, as its external data) and
 * `guidance.json` (what the pipeline needs to know about it).
 *
 * - Entries of one U-Net share one weights file: a new entry hardlinks it from an entry of the same
 *   U-Net when there is one, so a new loss structure costs its graph (MBs), not another copy of the
 *   weights (GBs at Stable Diffusion's size). When the last entry linking it goes, so do its bytes.
 * - Bounded in bytes, hardlinked files counted once: after adding an entry, the least recently used
 *   ones are removed until the cache fits. Using an entry touches its guidance.json, whose time
 *   orders them.
 * - Safe with several processes: an entry is built in a folder of its own and renamed into place
 *   whole (a process that loses that race uses the winner's); an entry is removed by renaming it
 *   away first, so nobody sees half of one; a weights file that vanishes while being linked is looked
 *   for elsewhere or written again. A process holds a pin on an entry from finding (or making) it
 *   until it has opened it, and pinned entries are not removed: the cache may exceed its bound while
 *   more entries than fit are being opened at once. A pin of a process that died counts for nothing.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface GuidedCache {
  dir: string;
  /** the most bytes its entries may take together */
  maxBytes: number;
}

export const DEFAULT_CACHE_MAX_BYTES = 16 * 2 ** 30;

const ENTRY_PREFIX = 'guided-';
const META = 'guidance.json';
const PIN_PREFIX = 'pin-';
export const WEIGHTS_FILE = 'weights.bin';
/** Building folders, removed entries and pins left behind by a process that died are cleared after this long. */
const ABANDONED_AFTER_MS = 3600_000;

const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i;

/** INFSPLIGN_CACHE_MAX_BYTES: bytes, or with a binary unit (`512M`, `20G`, `20GiB`). */
export function parseByteSize(text: string, name: string): number {
  const match = SIZE.exec(text.trim());
  const bytes = match ? Number(match[1]) * 1024 ** ' KMGT'.indexOf(match[2]!.toUpperCase() || ' ') : NaN;
  if (!(bytes > 0) || !Number.isFinite(bytes)) throw new Error(`${name} must be a size in bytes, e.g. 20G or 21474836480 (got '${text}')`);
  return Math.floor(bytes);
}

/** The cache the environment names: INFSPLIGN_CACHE (`.cache/guided`), INFSPLIGN_CACHE_MAX_BYTES (16 GiB). */
export function guidedCacheFromEnv(env: NodeJS.ProcessEnv = process.env): GuidedCache {
  const max = env.INFSPLIGN_CACHE_MAX_BYTES;
  return {
    dir: env.INFSPLIGN_CACHE || resolve(import.meta.dirname, '../../../.cache/guided'),
    maxBytes: max ? parseByteSize(max, 'INFSPLIGN_CACHE_MAX_BYTES') : DEFAULT_CACHE_MAX_BYTES,
  };
}

/** An entry's folder name: U-Net content first, so entries of one U-Net can find each other. */
export function entryName(unetKey: string, structureKey: string): string {
  return `${ENTRY_PREFIX}${unetKey}-${structureKey}`;
}

/** An entry found or made, pinned until `unpin()`. */
export interface CacheEntry<T> {
  dir: string;
  meta: T;
  unpin(): void;
}

const newPinName = () => `${PIN_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * A pinned entry. Eviction passes over pinned entries, so the cache can exceed its bound while they
 * are in use; unpinning evicts again, so that it is back within the bound once nothing is in use.
 */
function pinned<T>(cache: GuidedCache, dir: string, pin: string, meta: T): CacheEntry<T> {
  return {
    dir,
    meta,
    unpin: () => {
      rmSync(join(dir, pin), { force: true });
      evict(cache);
    },
  };
}

/** A complete entry, pinned and touched as used now; null when there is none (or it went meanwhile). */
export function useEntry<T>(cache: GuidedCache, name: string): CacheEntry<T> | null {
  const dir = join(cache.dir, name);
  const pin = newPinName();
  try {
    // the pin first: an entry renamed away meanwhile takes no pin (ENOENT), so a pinned entry is whole
    writeFileSync(join(dir, pin), '', { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const meta = JSON.parse(readFileSync(join(dir, META), 'utf8')) as T;
    const now = new Date();
    utimesSync(join(dir, META), now, now);
    return pinned(cache, dir, pin, meta);
  } catch (err) {
    rmSync(join(dir, pin), { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // removed meanwhile
    throw err;
  }
}

export interface EntryWriter<T> {
  /** writes the U-Net's weights to `path` (called only when no entry of the same U-Net has them) */
  weights(path: string): void;
  /** writes the entry's other files into `dir`, beside WEIGHTS_FILE */
  files(dir: string): void;
  meta: T;
}

/** Links an entry's weights from another entry of the same U-Net; false when there is none left to link. */
function linkSharedWeights(cache: GuidedCache, unetKey: string, target: string): boolean {
  const siblings = readdirSync(cache.dir).filter((n) => n.startsWith(`${ENTRY_PREFIX}${unetKey}-`));
  for (const sibling of siblings) {
    const source = join(cache.dir, sibling, WEIGHTS_FILE);
    try {
      linkSync(source, target);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // removed meanwhile
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw err;
    }
    try {
      copyFileSync(source, target); // a file system without hard links
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return false;
}

/** Makes the entry `name`, pinned (a process that made it first wins), then brings the cache within its bound. */
export function createEntry<T>(cache: GuidedCache, unetKey: string, name: string, writer: EntryWriter<T>): CacheEntry<T> {
  mkdirSync(cache.dir, { recursive: true });
  const dir = join(cache.dir, name);
  const building = join(cache.dir, `.building-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const pin = newPinName();
  mkdirSync(building);
  let made = false;
  try {
    const weights = join(building, WEIGHTS_FILE);
    if (!linkSharedWeights(cache, unetKey, weights)) writer.weights(weights);
    writer.files(building);
    // the folder is this process's own until renamed: its files need no atomic writes of their own
    writeFileSync(join(building, META), JSON.stringify(writer.meta, null, 2));
    writeFileSync(join(building, pin), '');
    try {
      renameSync(building, dir);
      made = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  } finally {
    if (!made) rmSync(building, { recursive: true, force: true });
  }
  // another process made it meanwhile: theirs serves (or, were it removed already, ours once more)
  const entry = made ? pinned(cache, dir, pin, writer.meta) : (useEntry<T>(cache, name) ?? createEntry(cache, unetKey, name, writer));
  evict(cache, name);
  return entry;
}

/** Whether a pin's process still runs (a dead process's pin, or a forgotten one, counts for nothing). */
function livePin(dir: string, pin: string): boolean {
  const pid = Number(pin.slice(PIN_PREFIX.length).split('-')[0]);
  const stat = lstatSync(join(dir, pin), { throwIfNoEntry: false });
  if (!stat || Date.now() - stat.mtimeMs > ABANDONED_AFTER_MS) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Entry {
  name: string;
  lastUsed: number;
  pinned: boolean;
}

/** The entries, least recently used first. */
function entries(cache: GuidedCache): Entry[] {
  const found: Entry[] = [];
  for (const name of readdirSync(cache.dir)) {
    if (!name.startsWith(ENTRY_PREFIX)) continue;
    const dir = join(cache.dir, name);
    // an entry of an earlier layout has no metadata: its age is its folder's
    const stat = lstatSync(join(dir, META), { throwIfNoEntry: false }) ?? lstatSync(dir, { throwIfNoEntry: false });
    if (!stat) continue; // removed meanwhile
    const pins = readdirSync(dir).filter((f) => f.startsWith(PIN_PREFIX));
    found.push({ name, lastUsed: stat.mtimeMs, pinned: pins.some((pin) => livePin(dir, pin)) });
  }
  return found.sort((a, b) => a.lastUsed - b.lastUsed);
}

/** Bytes the cache's entries take, each file counted once however many entries link it. */
export function cacheBytes(cache: GuidedCache): number {
  const seen = new Set<string>();
  let bytes = 0;
  const visit = (path: string) => {
    const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const child of readdirSync(path)) visit(join(path, child));
      return;
    }
    const inode = `${stat.dev}:${stat.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    bytes += Number(stat.size);
  };
  for (const name of readdirSync(cache.dir)) if (name.startsWith(ENTRY_PREFIX)) visit(join(cache.dir, name));
  return bytes;
}

/** Removes an entry: renamed away first (atomic, so nobody sees half of it), then deleted. */
function removeEntry(cache: GuidedCache, name: string): void {
  const trash = join(cache.dir, `.removed-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    renameSync(join(cache.dir, name), trash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another process removed it
    throw err;
  }
  rmSync(trash, { recursive: true, force: true });
}

/** Removes least recently used entries, never `keep` nor a pinned one, until the cache fits; clears what dead processes left. */
export function evict(cache: GuidedCache, keep?: string): void {
  for (const name of readdirSync(cache.dir)) {
    if (!name.startsWith('.building-') && !name.startsWith('.removed-')) continue;
    const stat = lstatSync(join(cache.dir, name), { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > ABANDONED_AFTER_MS) rmSync(join(cache.dir, name), { recursive: true, force: true });
  }
  for (const entry of entries(cache)) {
    if (cacheBytes(cache) <= cache.maxBytes) return;
    if (entry.name !== keep && !entry.pinned) removeEntry(cache, entry.name);
  }
}

/** Whether the entry is still there (a process may have removed it since it was found). */
export function entryExists(dir: string): boolean {
  return existsSync(join(dir, META));
}
