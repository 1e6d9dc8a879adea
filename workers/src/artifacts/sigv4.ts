/**
 * AWS Signature Version 4 for S3 requests in the Authorization header, from the specification
 * ("Authenticating Requests: Using the Authorization Header", AWS S3 API reference), with node:crypto
 * only. The payload is always signed: `x-amz-content-sha256` is the hex SHA-256 of the body.
 *
 * The caller gives the path and query unencoded; `signS3Request` encodes them once, as S3 wants (each
 * path segment per RFC 3986, '/' kept), and returns the encoded path and query to send, so that what
 * is sent is always what was signed.
 */
import { createHash, createHmac } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** temporary credentials' session token, sent (and signed) as x-amz-security-token */
  sessionToken?: string;
}

export interface S3RequestToSign {
  method: string;
  /** the path as the service sees it after decoding, e.g. `/bucket/runs/r1/0_0.png` */
  path: string;
  /** query parameters, unencoded; a parameter without a value has '' (`?delete` is ['delete', '']) */
  query?: readonly (readonly [string, string])[];
  /** headers to sign and send; `host` is required (as the HTTP client will send it: host[:port]) */
  headers: Readonly<Record<string, string>>;
  /** hex SHA-256 of the body (sha256Hex(body); of '' for no body) */
  payloadHash: string;
}

export interface SignedS3Request {
  /** the encoded path to send */
  path: string;
  /** the encoded query string to send, without '?' ('' for none) */
  queryString: string;
  /** the request's headers plus x-amz-date, x-amz-content-sha256, [x-amz-security-token] and authorization */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** RFC 3986 percent-encoding of UTF-8 bytes: every byte but the unreserved characters, as %XX (upper case); '/' kept when `keepSlash`. */
export function uriEncode(text: string, keepSlash = false): string {
  let out = '';
  for (const char of text) {
    if (UNRESERVED.test(char) || (keepSlash && char === '/')) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `YYYYMMDDTHHMMSSZ` */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** HMAC chain: kDate = HMAC("AWS4" + secret, YYYYMMDD), then region, service and "aws4_request". */
export function signingKey(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
}

/** Sorted by encoded name, then encoded value. */
function canonicalQuery(query: readonly (readonly [string, string])[]): string {
  return query
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** Signs `request` at `date` for `region` and `service` (default s3). */
export function signS3Request(request: S3RequestToSign, credentials: SigV4Credentials, region: string, date: Date, service = 's3'): SignedS3Request {
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  if (!headers.host) throw new Error('sigv4: the host header is required');
  headers['x-amz-date'] = stamp;
  headers['x-amz-content-sha256'] = request.payloadHash;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;

  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((name) => `${name}:${headers[name]!.trim().replace(/ +/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const path = uriEncode(request.path, true);
  const queryString = canonicalQuery(request.query ?? []);
  const canonicalRequest = [request.method.toUpperCase(), path, queryString, canonicalHeaders, signedHeaders, request.payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = hmac(signingKey(credentials.secretAccessKey, day, region, service), stringToSign).toString('hex');
  headers.authorization = `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
  return { path, queryString, headers, canonicalRequest, stringToSign, signature };
}
