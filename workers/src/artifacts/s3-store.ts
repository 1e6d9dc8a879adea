/**
 * The artifact store in a bucket of an S3-compatible service (AWS S3, MinIO, Ceph RGW, ...), over
 * fetch with SigV4-signed requests (sigv4.ts): key `a/b.png` is the object `PREFIX/a/b.png`. A PUT
 * is atomic in S3, so readers never see a partial object. Only the S3 REST operations PutObject,
 * GetObject, HeadObject, ListObjectsV2 and DeleteObjects are used; their small XML answers are read
 * with a few regular expressions.
 *
 * Errors name the operation, the key, the HTTP status and S3's error code; never the credentials.
 * A service that answers 403 instead of 404 for a missing object (AWS does when the credentials may
 * not list the bucket) makes get/exists fail with that 403 rather than report "not found".
 */
import { createHash } from 'node:crypto';
import { artifactKeyProblem, checkArtifactKey } from './keys.ts';
import { sha256Hex, signS3Request, type SigV4Credentials } from './sigv4.ts';
import { ArtifactNotFoundError, type ArtifactStore } from './store.ts';

/** Plain data (it travels to worker threads): where the bucket is and how to sign. */
export interface S3StoreConfig {
  /** the service's URL, e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** where the store's keys start inside the bucket: '/'-separated, e.g. `infsplign/prod` */
  prefix?: string;
  /** `ENDPOINT/BUCKET/KEY` rather than `BUCKET.HOST/KEY`; default: true but for AWS endpoints */
  forcePathStyle?: boolean;
  /** per request (default 60 s) */
  requestTimeoutMs?: number;
}

/** DeleteObjects takes at most this many keys a request. */
export const DELETE_BATCH = 1000;
const MAX_PREFIX_BYTES = 256;

/** Why `endpoint` is not a usable S3 endpoint, or null. The endpoint itself is not repeated: it could hold a password. */
export function s3EndpointProblem(endpoint: string): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'not a URL: give the service URL, e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, not ${url.protocol}`;
  if (url.username || url.password) return 'must not hold credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead';
  if (url.search || url.hash) return 'must have no query or fragment';
  return null;
}

export function s3BucketProblem(bucket: string): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) return `invalid bucket name '${bucket.slice(0, 80)}': 2 to 255 letters, digits, '.', '_' and '-', starting with a letter or digit`;
  return null;
}

/** The store's prefix inside the bucket: '/'-separated segments, none empty, '.' or '..', no control characters. */
export function s3PrefixProblem(prefix: string): string | null {
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) return `the key prefix must be at most ${MAX_PREFIX_BYTES} bytes`;
  if (/[\u0000-\u001f\u007f]/.test(prefix)) return 'the key prefix must not hold control characters';
  if (prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) return `invalid key prefix '${prefix.slice(0, 80)}': '/'-separated segments, none empty, '.' or '..'`;
  return null;
}

/** True for AWS's own endpoints, which want virtual-hosted-style requests. */
export function isAwsEndpoint(endpoint: string): boolean {
  return /(^|\.)amazonaws\.com(\.cn)?$/.test(new URL(endpoint).hostname);
}

/** A failed S3 request: the operation, the artifact key, the HTTP status (none when the service was not reached) and S3's error code. */
export class S3RequestError extends Error {
  constructor(
    readonly operation: string,
    readonly key: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    detail: string,
  ) {
    const what = [status === undefined ? '' : `HTTP ${status}`, code ?? ''].filter(Boolean).join(' ');
    super(`S3 ${operation} ${key}: ${[what, detail].filter(Boolean).join(': ')}`);
  }
}

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function xmlDecode(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9A-Fa-f]+);/g, (entity, name: string) => {
    if (name[0] !== '#') return NAMED_ENTITIES[name]!;
    const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}

/** The raw contents of every `<tag>...</tag>` in `xml` (S3's answers nest no element in one of its own name). */
export function xmlElements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
}

/** The decoded text of the first `<tag>`, or undefined. */
export function xmlText(xml: string, tag: string): string | undefined {
  const [raw] = xmlElements(xml, tag);
  return raw === undefined ? undefined : xmlDecode(raw);
}

interface S3Call {
  operation: string;
  /** the artifact key (or prefix) the call is for, for errors */
  key: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST';
  /** the object key inside the bucket; none for a bucket-level request */
  objectKey?: string;
  query?: [string, string][];
  headers?: Record<string, string>;
  body?: Uint8Array;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly description: string;
  readonly bucket: string;
  readonly prefix: string | undefined;
  readonly #credentials: SigV4Credentials;
  readonly #region: string;
  readonly #protocol: string;
  /** host[:port] of the endpoint */
  readonly #host: string;
  /** the endpoint's path, without a trailing '/' (usually '') */
  readonly #basePath: string;
  readonly #pathStyle: boolean;
  readonly #timeoutMs: number;
  /** `PREFIX/`, or '' */
  readonly #keyBase: string;

  constructor(config: S3StoreConfig) {
    const endpointProblem = s3EndpointProblem(config.endpoint);
    const problem =
      (endpointProblem && `S3 endpoint: ${endpointProblem}`) ||
      s3BucketProblem(config.bucket) ||
      (config.prefix !== undefined && s3PrefixProblem(config.prefix)) ||
      (!config.region && 'the S3 region must not be empty') ||
      (!config.accessKeyId && 'the S3 access key id must not be empty') ||
      (!config.secretAccessKey && 'the S3 secret access key must not be empty');
    if (problem) throw new Error(problem);
    const url = new URL(config.endpoint);
    this.#protocol = url.protocol;
    this.#host = url.host;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.#keyBase = config.prefix ? `${config.prefix}/` : '';
    this.#region = config.region;
    this.#credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey, sessionToken: config.sessionToken };
    this.#pathStyle = config.forcePathStyle ?? !(isAwsEndpoint(config.endpoint) && !config.bucket.includes('.'));
    this.#timeoutMs = config.requestTimeoutMs ?? 60_000;
    this.description = `s3:${url.origin}${this.#basePath}/${config.bucket}${config.prefix ? `/${config.prefix}` : ''}`;
  }

  /** The object's key in the bucket; the artifact key is checked first. */
  private objectKey(key: string): string {
    return this.#keyBase + checkArtifactKey(key);
  }

  private async send(call: S3Call): Promise<Response> {
    const body = call.body ?? new Uint8Array();
    const host = this.#pathStyle ? this.#host : `${this.bucket}.${this.#host}`;
    const bucketPath = this.#pathStyle ? `/${this.bucket}` : '';
    const objectPath = call.objectKey === undefined ? (this.#pathStyle ? '' : '/') : `/${call.objectKey}`;
    const signed = signS3Request(
      { method: call.method, path: `${this.#basePath}${bucketPath}${objectPath}`, query: call.query, headers: { ...call.headers, host }, payloadHash: sha256Hex(body) },
      this.#credentials,
      this.#region,
      new Date(),
    );
    const { host: _host, ...headers } = signed.headers; // fetch sends the same Host itself
    const url = `${this.#protocol}//${host}${signed.path}${signed.queryString ? `?${signed.queryString}` : ''}`;
    try {
      // (a copy: fetch's types take only ArrayBuffer-backed views)
      return await fetch(url, { method: call.method, headers, body: call.body && new Uint8Array(call.body), signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new S3RequestError(call.operation, call.key, undefined, undefined, `${this.#protocol}//${this.#host} did not answer: ${cause}`);
    }
  }

  /** The error for a response that is not a success, from its XML body (HEAD answers have none). */
  private async failure(call: S3Call, response: Response, text?: string): Promise<S3RequestError> {
    const xml = text ?? (call.method === 'HEAD' ? '' : await response.text().catch(() => ''));
    const message = (xmlText(xml, 'Message') ?? '').slice(0, 300);
    return new S3RequestError(call.operation, call.key, response.status, xmlText(xml, 'Code') ?? (response.statusText || undefined), message);
  }

  /** Sends `call`; a non-2xx answer is an S3RequestError. */
  private async expectOk(call: S3Call): Promise<Response> {
    const response = await this.send(call);
    if (!response.ok) throw await this.failure(call, response);
    return response;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const objectKey = this.objectKey(key);
    const contentType = key.toLowerCase().endsWith('.png') ? 'image/png' : 'application/octet-stream';
    const response = await this.expectOk({ operation: 'PutObject', key, method: 'PUT', objectKey, headers: { 'content-type': contentType }, body: bytes });
    await response.arrayBuffer();
  }

  async get(key: string): Promise<Buffer> {
    const call: S3Call = { operation: 'GetObject', key, method: 'GET', objectKey: this.objectKey(key) };
    const response = await this.send(call);
    if (response.ok) return Buffer.from(await response.arrayBuffer());
    const text = await response.text().catch(() => '');
    // 404 NoSuchBucket is a misconfiguration, not a missing artifact.
    if (response.status === 404 && (xmlText(text, 'Code') ?? 'NoSuchKey') === 'NoSuchKey') throw new ArtifactNotFoundError(key, this.description);
    throw await this.failure(call, response, text);
  }

  /** HeadObject on an object key of the bucket. */
  private async head(key: string, objectKey: string): Promise<boolean> {
    const call: S3Call = { operation: 'HeadObject', key, method: 'HEAD', objectKey };
    const response = await this.send(call);
    if (response.ok || response.status === 404) return response.ok;
    throw await this.failure(call, response);
  }

  async exists(key: string): Promise<boolean> {
    return this.head(key, this.objectKey(key));
  }

  /** Every object key in the bucket that starts with `start` (ListObjectsV2, page by page), in the service's order. */
  private async listObjectKeys(key: string, start: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    for (;;) {
      const query: [string, string][] = [['list-type', '2'], ['prefix', start]];
      if (token !== undefined) query.push(['continuation-token', token]);
      const xml = await (await this.expectOk({ operation: 'ListObjectsV2', key, method: 'GET', query })).text();
      for (const contents of xmlElements(xml, 'Contents')) {
        const objectKey = xmlText(contents, 'Key');
        if (objectKey !== undefined) keys.push(objectKey);
      }
      if (xmlText(xml, 'IsTruncated') !== 'true') return keys;
      const next = xmlText(xml, 'NextContinuationToken');
      if (!next || next === token) throw new S3RequestError('ListObjectsV2', key, 200, undefined, 'a truncated listing without a new continuation token');
      token = next;
    }
  }

  /** Objects under the prefix whose names are no artifact keys (written by something else) are left out, as the local store leaves out dot-files. */
  async list(prefix: string): Promise<string[]> {
    const objectKeys = await this.listObjectKeys(prefix, `${this.objectKey(prefix)}/`);
    return objectKeys
      .map((objectKey) => objectKey.slice(this.#keyBase.length))
      .filter((key) => artifactKeyProblem(key) === null)
      .sort();
  }

  /** Removes the object `prefix` and everything under `prefix/` (also objects whose names are no artifact keys), in DeleteObjects batches. */
  async delete(prefix: string): Promise<number> {
    const objectKey = this.objectKey(prefix);
    const doomed = await this.listObjectKeys(prefix, `${objectKey}/`);
    if (await this.head(prefix, objectKey)) doomed.push(objectKey);
    for (let i = 0; i < doomed.length; i += DELETE_BATCH) await this.deleteObjects(prefix, doomed.slice(i, i + DELETE_BATCH));
    return doomed.length;
  }

  private async deleteObjects(prefix: string, objectKeys: string[]): Promise<void> {
    const body = Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${objectKeys.map((k) => `<Object><Key>${xmlEscape(k)}</Key></Object>`).join('')}</Delete>`,
      'utf8',
    );
    const headers = { 'content-type': 'application/xml', 'content-md5': createHash('md5').update(body).digest('base64') };
    const response = await this.expectOk({ operation: 'DeleteObjects', key: prefix, method: 'POST', query: [['delete', '']], headers, body });
    // A 200 can still report keys it could not delete.
    const errors = xmlElements(await response.text(), 'Error');
    if (errors.length > 0) {
      const [first] = errors;
      const detail = `${xmlText(first!, 'Key') ?? '?'}: ${xmlText(first!, 'Message') ?? ''}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`;
      throw new S3RequestError('DeleteObjects', prefix, response.status, xmlText(first!, 'Code'), detail);
    }
  }
}
