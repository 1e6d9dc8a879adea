/**
 * A test double of an S3 service: an in-process node:http server on 127.0.0.1 speaking the part of
 * the S3 REST protocol S3ArtifactStore uses (path-style PutObject, GetObject, HeadObject,
 * ListObjectsV2 with max-keys and continuation-token, DeleteObjects), objects kept in a Map.
 *
 * It checks every request's SigV4 signature the way a service does: from the raw request it decodes
 * the path and query, encodes them again with its own encoder, rebuilds the canonical request and
 * recomputes the signature with its own HMAC chain (nothing of the SDK the client signs with), so a
 * signing or encoding bug in the client fails as 403 SignatureDoesNotMatch. It also checks the payload
 * hash, the credential scope, the clock and the body's checksum (Content-MD5 or x-amz-checksum-*;
 * DeleteObjects must carry one). Not a real S3: no versioning, ACLs, multipart or
 * virtual-hosted-style requests.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';

export interface S3DoubleOptions {
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** the most keys one ListObjectsV2 page holds, whatever max-keys asks (default 1000) */
  pageSize?: number;
}

export interface S3Double {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** object key (inside the bucket) -> bytes */
  objects: Map<string, Buffer>;
  /** every request received, in order, as `METHOD /raw/path?query` */
  requests: string[];
  pageSize: number;
  close(): Promise<void>;
}

const MAX_SKEW_MS = 15 * 60_000;
const TOKEN_MARK = 'page+/='; // continuation tokens hold characters that need encoding, as real ones do

// encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ); SigV4 wants only the unreserved ones left.
const encode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;');
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const unescapeXml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[name]!);

class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeStrict(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Failure(400, 'InvalidURI', `could not decode '${text}'`);
  }
}

/** Recomputes the request's signature from what arrived; throws S3Failure on any mismatch. */
function verifySignature(req: IncomingMessage, rawPath: string, rawQuery: string, body: Buffer, options: S3DoubleOptions): void {
  const auth = req.headers.authorization ?? '';
  const parts = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!parts) throw new S3Failure(400, 'AuthorizationHeaderMalformed', 'the Authorization header is not a SigV4 header');
  const [, accessKey, day, region, signedList, signature] = parts as unknown as [string, string, string, string, string, string];
  if (accessKey !== options.accessKeyId) throw new S3Failure(403, 'InvalidAccessKeyId', 'unknown access key');
  if (region !== options.region) throw new S3Failure(400, 'AuthorizationHeaderMalformed', `the region '${region}' is wrong; expecting '${options.region}'`);
  const stamp = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(stamp);
  if (!when || stamp.slice(0, 8) !== day) throw new S3Failure(403, 'AccessDenied', 'x-amz-date is missing or does not match the credential scope');
  const time = Date.UTC(+when[1]!, +when[2]! - 1, +when[3]!, +when[4]!, +when[5]!, +when[6]!);
  if (Math.abs(Date.now() - time) > MAX_SKEW_MS) throw new S3Failure(403, 'RequestTimeTooSkewed', 'the request time is too far from the server time');

  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash !== createHash('sha256').update(body).digest('hex'))
    throw new S3Failure(400, 'XAmzContentSHA256Mismatch', 'x-amz-content-sha256 does not match the body');
  const signed = signedList.split(';');
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && !signed.includes(name)) throw new S3Failure(403, 'AccessDenied', `${name} must be signed`);
  }
  if (!signed.includes('host')) throw new S3Failure(403, 'AccessDenied', 'host must be signed');

  const canonicalPath = rawPath
    .split('/')
    .map((segment) => encode(decodeStrict(segment)))
    .join('/');
  const canonicalQuery = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const [name, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return [encode(decodeStrict(name)), encode(decodeStrict(value))] as const;
    })
    .sort((a, b) => (a[0] !== b[0] ? byCodeUnit(a[0], b[0]) : byCodeUnit(a[1], b[1])))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headerLines = signed.map((name) => {
    const value = req.headers[name];
    if (value === undefined) throw new S3Failure(403, 'AccessDenied', `signed header ${name} is missing`);
    return `${name}:${(Array.isArray(value) ? value.join(',') : value).trim().replace(/\s+/g, ' ')}\n`;
  });
  const canonical = `${req.method}\n${canonicalPath}\n${canonicalQuery}\n${headerLines.join('')}\n${signedList}\n${payloadHash}`;
  const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${day}/${region}/s3/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`;
  let key: Buffer = Buffer.from(`AWS4${options.secretAccessKey}`);
  for (const step of [day, region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(step).digest();
  const expected = createHmac('sha256', key).update(toSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    throw new S3Failure(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
}

/** The body's checksum as S3 computes it for each header a client may send (base64; Content-MD5 and the flexible x-amz-checksum-*). */
const CHECKSUMS: Record<string, (body: Buffer) => string> = {
  'content-md5': (body) => createHash('md5').update(body).digest('base64'),
  'x-amz-checksum-crc32': (body) => {
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc32(body));
    return sum.toString('base64');
  },
  'x-amz-checksum-sha1': (body) => createHash('sha1').update(body).digest('base64'),
  'x-amz-checksum-sha256': (body) => createHash('sha256').update(body).digest('base64'),
};

/** Checks every checksum header the request carries against the body; `required`: at least one must be there. */
function verifyChecksums(req: IncomingMessage, body: Buffer, required: boolean): void {
  const sent = Object.keys(req.headers).filter((name) => name === 'content-md5' || (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type'));
  if (required && sent.length === 0) throw new S3Failure(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5 or x-amz-checksum-*');
  for (const name of sent) {
    const checksum = CHECKSUMS[name];
    if (!checksum) throw new S3Failure(400, 'InvalidRequest', `${name} is not implemented by this double`);
    if (req.headers[name] !== checksum(body)) throw new S3Failure(400, 'BadDigest', `The ${name} you specified did not match the calculated checksum.`);
  }
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
}

export async function startS3Double(options: S3DoubleOptions): Promise<S3Double> {
  const objects = new Map<string, Buffer>();
  const requests: string[] = [];
  const double = { objects, requests, pageSize: options.pageSize ?? 1000 };

  const listObjects = (res: ServerResponse, query: URLSearchParams) => {
    if (query.get('list-type') !== '2') throw new S3Failure(400, 'NotImplemented', 'only ListObjectsV2 is implemented');
    const prefix = query.get('prefix') ?? '';
    const maxKeys = Math.min(Number(query.get('max-keys') ?? 1000), double.pageSize);
    const token = query.get('continuation-token');
    if (token !== null && !token.startsWith(TOKEN_MARK)) throw new S3Failure(400, 'InvalidArgument', 'The continuation token provided is incorrect');
    const after = token === null ? null : Buffer.from(token.slice(TOKEN_MARK.length), 'base64');
    const matching = [...objects.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => Buffer.from(key))
      .sort(Buffer.compare)
      .filter((key) => after === null || Buffer.compare(key, after) > 0);
    const page = matching.slice(0, maxKeys);
    const truncated = matching.length > page.length;
    const contents = page.map(
      (key) =>
        `<Contents><Key>${escapeXml(key.toString())}</Key><Size>${objects.get(key.toString())!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    );
    const next = truncated ? `<NextContinuationToken>${escapeXml(TOKEN_MARK + page.at(-1)!.toString('base64'))}</NextContinuationToken>` : '';
    sendXml(
      res,
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${options.bucket}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents.join('')}${next}</ListBucketResult>`,
    );
  };

  const deleteObjects = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    verifyChecksums(req, body, true);
    const xml = body.toString('utf8');
    const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
    if (keys.length > 1000) throw new S3Failure(400, 'MalformedXML', 'at most 1000 keys a request');
    const quiet = /<Quiet>true<\/Quiet>/.test(xml);
    for (const key of keys) objects.delete(key);
    sendXml(
      res,
      200,
      `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${quiet ? '' : keys.map((k) => `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`).join('')}</DeleteResult>`,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? '/';
    requests.push(`${req.method} ${raw}`);
    const body = await readBody(req);
    const [rawPath = '/', rawQuery = ''] = raw.split(/\?(.*)/s);
    verifySignature(req, rawPath, rawQuery, body, options);
    const [, bucket = '', ...keyParts] = rawPath.split('/').map(decodeStrict);
    if (bucket !== options.bucket) throw new S3Failure(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const key = keyParts.join('/');
    const query = new URLSearchParams(rawQuery);
    if (key === '') {
      if (req.method === 'GET') return listObjects(res, query);
      if (req.method === 'POST' && query.has('delete')) return deleteObjects(req, res, body);
      throw new S3Failure(405, 'MethodNotAllowed', `${req.method} on the bucket is not implemented`);
    }
    if (req.method === 'PUT') {
      verifyChecksums(req, body, false);
      objects.set(key, body);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      const stored = objects.get(key);
      if (!stored) {
        if (req.method === 'HEAD') res.writeHead(404).end();
        else sendXml(res, 404, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${escapeXml(key)}</Key></Error>`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stored.length });
      res.end(req.method === 'GET' ? stored : undefined);
    } else {
      throw new S3Failure(405, 'MethodNotAllowed', `${req.method} on an object is not implemented`);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const failure = err instanceof S3Failure ? err : new S3Failure(500, 'InternalError', String(err));
      if (req.method === 'HEAD') res.writeHead(failure.status).end();
      else sendXml(res, failure.status, `<Error><Code>${failure.code}</Code><Message>${escapeXml(failure.message)}</Message></Error>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(double, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  });
}
