/**
 * The artifact store in a bucket of an S3-compatible service (AWS S3, MinIO, Ceph RGW, ...), through
 * AWS's SDK (@aws-sdk/client-s3: SigV4 signing, XML, retries with backoff, the credential chain):
 * key `a/b.png` is the object `PREFIX/a/b.png`. A PUT is atomic in S3, so readers never see a partial
 * object. Only PutObject, GetObject, HeadObject, ListObjectsV2 and DeleteObjects are used.
 *
 * Requests are path-style (`ENDPOINT/BUCKET/KEY`) but for AWS's own endpoints, which get
 * virtual-hosted-style ones (`BUCKET.ENDPOINT-HOST/KEY`), unless the bucket name holds a dot (no TLS
 * certificate covers it) or forcePathStyle says otherwise.
 *
 * Errors name the operation, the key, the HTTP status and S3's error code; never the credentials.
 * A service that answers 403 instead of 404 for a missing object (AWS does when the credentials may
 * not list the bucket) makes get/exists fail with that 403 rather than report "not found".
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { artifactKeyProblem, checkArtifactKey } from './keys.ts';
import { ArtifactNotFoundError, type ArtifactStore } from './store.ts';

/** Plain data (it travels to worker threads): where the bucket is and whose credentials to use. */
export interface S3StoreConfig {
  /** the service's URL, e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com */
  endpoint: string;
  bucket: string;
  region: string;
  /**
   * Static credentials; without them the SDK's default chain finds some (AWS_* variables, the shared
   * config and credentials files with AWS_PROFILE, SSO, web identity, a container or instance role).
   */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** where the store's keys start inside the bucket: '/'-separated, e.g. `infsplign/prod` */
  prefix?: string;
  /** `ENDPOINT/BUCKET/KEY` rather than `BUCKET.HOST/KEY`; default: true but for AWS endpoints */
  forcePathStyle?: boolean;
  /** per request (default 60 s) */
  requestTimeoutMs?: number;
  /** attempts per operation, the first included (default: the SDK's, 3, or AWS_MAX_ATTEMPTS) */
  maxAttempts?: number;
}

/** DeleteObjects takes at most this many keys a request. */
const DELETE_BATCH = 1000;
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
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket))
    return `invalid bucket name '${bucket.slice(0, 80)}': 2 to 255 letters, digits, '.', '_' and '-', starting with a letter or digit`;
  return null;
}

/** The store's prefix inside the bucket: '/'-separated segments, none empty, '.' or '..', no control characters. */
export function s3PrefixProblem(prefix: string): string | null {
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) return `the key prefix must be at most ${MAX_PREFIX_BYTES} bytes`;
  if ([...prefix].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return 'the key prefix must not hold control characters';
  if (prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'))
    return `invalid key prefix '${prefix.slice(0, 80)}': '/'-separated segments, none empty, '.' or '..'`;
  return null;
}

/** True for AWS's own endpoints, which want virtual-hosted-style requests. */
function isAwsEndpoint(endpoint: string): boolean {
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

/** S3's error code of a failed command (the SDK names the error after it), or undefined when the service was not reached. */
function serviceError(err: unknown): { status: number; code: string; message: string } | undefined {
  if (!(err instanceof S3ServiceException)) return undefined;
  const status = err.$metadata.httpStatusCode ?? 0;
  // An answer without a body (HEAD) has no code: the SDK names it after the status.
  const code = /^\d+$/.test(err.name) || err.name === 'Unknown' || err.name === 'UnknownError' ? httpStatusText(status) : err.name;
  const message = err.message && err.message !== err.name && err.message !== 'UnknownError' ? err.message : '';
  return { status, code, message };
}

function httpStatusText(status: number): string {
  return (
    (
      { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 503: 'Service Unavailable' } as Record<
        number,
        string
      >
    )[status] ?? `HTTP ${status}`
  );
}

export class S3ArtifactStore implements ArtifactStore {
  readonly description: string;
  readonly bucket: string;
  readonly prefix: string | undefined;
  readonly #client: S3Client;
  readonly #endpoint: string;
  /** `PREFIX/`, or '' */
  readonly #keyBase: string;

  constructor(config: S3StoreConfig) {
    const endpointProblem = s3EndpointProblem(config.endpoint);
    const problem =
      (endpointProblem && `S3 endpoint: ${endpointProblem}`) ||
      s3BucketProblem(config.bucket) ||
      (config.prefix !== undefined && s3PrefixProblem(config.prefix)) ||
      (!config.region && 'the S3 region must not be empty') ||
      ((config.accessKeyId === undefined) !== (config.secretAccessKey === undefined) &&
        'the S3 access key id and secret access key go together: give both, or neither for the default credential chain') ||
      (config.accessKeyId === '' && 'the S3 access key id must not be empty') ||
      (config.secretAccessKey === '' && 'the S3 secret access key must not be empty');
    if (problem) throw new Error(problem);
    const url = new URL(config.endpoint);
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.#keyBase = config.prefix ? `${config.prefix}/` : '';
    this.#endpoint = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    const { accessKeyId, secretAccessKey, sessionToken } = config;
    this.#client = new S3Client({
      endpoint: this.#endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle ?? !(isAwsEndpoint(config.endpoint) && !config.bucket.includes('.')),
      ...(accessKeyId !== undefined &&
        secretAccessKey !== undefined && { credentials: { accessKeyId, secretAccessKey, ...(sessionToken !== undefined && { sessionToken }) } }),
      ...(config.maxAttempts !== undefined && { maxAttempts: config.maxAttempts }),
      requestHandler: { requestTimeout: config.requestTimeoutMs ?? 60_000 },
    });
    this.description = `s3:${this.#endpoint}/${config.bucket}${config.prefix ? `/${config.prefix}` : ''}`;
  }

  /** The object's key in the bucket; the artifact key is checked first. */
  private objectKey(key: string): string {
    return this.#keyBase + checkArtifactKey(key);
  }

  /** The request's output; its failure as an S3RequestError naming `operation` and `key`. */
  private async request<T>(operation: string, key: string, send: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await send(this.#client);
    } catch (err) {
      throw this.failure(operation, key, err);
    }
  }

  private failure(operation: string, key: string, err: unknown): S3RequestError {
    const answered = serviceError(err);
    if (answered) return new S3RequestError(operation, key, answered.status, answered.code, answered.message.slice(0, 300));
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error & { code?: string }).code ?? (err as Error).message;
    return new S3RequestError(operation, key, undefined, undefined, `${this.#endpoint} did not answer: ${cause}`);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const contentType = key.toLowerCase().endsWith('.png') ? 'image/png' : 'application/octet-stream';
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: bytes, ContentType: contentType });
    await this.request('PutObject', key, (client) => client.send(command));
  }

  async get(key: string): Promise<Buffer> {
    const objectKey = this.objectKey(key);
    try {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return Buffer.from(await Body!.transformToByteArray());
    } catch (err) {
      // 404 NoSuchBucket is a misconfiguration, not a missing artifact.
      if (serviceError(err)?.code === 'NoSuchKey') throw new ArtifactNotFoundError(key, this.description);
      throw this.failure('GetObject', key, err);
    }
  }

  /** HeadObject on an object key of the bucket. */
  private async head(key: string, objectKey: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return true;
    } catch (err) {
      if (serviceError(err)?.status === 404) return false;
      throw this.failure('HeadObject', key, err);
    }
  }

  async exists(key: string): Promise<boolean> {
    return this.head(key, this.objectKey(key));
  }

  /** Every object key in the bucket that starts with `start` (ListObjectsV2, page by page), in the service's order. */
  private async listObjectKeys(key: string, start: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    for (;;) {
      const command = new ListObjectsV2Command({ Bucket: this.bucket, Prefix: start, ContinuationToken: token });
      const page = await this.request('ListObjectsV2', key, (client) => client.send(command));
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      if (!page.IsTruncated) return keys;
      if (!page.NextContinuationToken || page.NextContinuationToken === token)
        throw new S3RequestError('ListObjectsV2', key, 200, undefined, 'a truncated listing without a new continuation token');
      token = page.NextContinuationToken;
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
    const command = new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Quiet: true, Objects: objectKeys.map((Key) => ({ Key })) } });
    const { Errors } = await this.request('DeleteObjects', prefix, (client) => client.send(command));
    // A 200 can still report keys it could not delete.
    if (Errors?.length) {
      const [first] = Errors;
      throw new S3RequestError(
        'DeleteObjects',
        prefix,
        200,
        first!.Code,
        `${first!.Key ?? '?'}: ${first!.Message ?? ''}${Errors.length > 1 ? ` (and ${Errors.length - 1} more)` : ''}`,
      );
    }
  }
}
