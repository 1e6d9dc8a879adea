/**
 * What the web app's server-side proxy (apps/web: /graphql, /artifacts, server-rendered reads) and
 * the API agree on; the web app imports this file, so both sides read one definition.
 *
 * Client address. The API keys its rate limits by the client's address. Behind the web app every
 * browser arrives from the web app's own address, so the web app says which address it saw, in
 * CLIENT_ADDRESS_HEADER, signed with HMAC-SHA256 under the secret both were given
 * (WEB_PROXY_SECRET). The API believes the header only when the signature holds and is fresh;
 * otherwise it keys by the socket's address. Nothing a browser can send (X-Forwarded-For, or this
 * header forged) changes its key.
 *
 * Body size. The API refuses /graphql bodies over MAX_BODY_BYTES; the proxy refuses them first,
 * before reading them whole.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Express's JSON body limit for /graphql: a query plus its variables never needs more. */
export const MAX_BODY_BYTES = 100 * 1024;

export const CLIENT_ADDRESS_HEADER = 'x-infsplign-client';

/** A signature older than this (or this far in the future) is refused: a copied header soon stops working. */
export const SIGNATURE_MAX_AGE_MS = 60_000;

/** The shortest WEB_PROXY_SECRET either side accepts. */
export const MIN_PROXY_SECRET_LENGTH = 32;

/** IPv4, IPv6 (with an embedded IPv4 tail): what a socket's remoteAddress holds. */
const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

function signature(secret: string, address: string, at: number): Buffer {
  return createHmac('sha256', secret).update(`infsplign-client-address\n${address}\n${at}`).digest();
}

/** The header value telling the API that the request came from `address`, at `now`. */
export function signClientAddress(secret: string, address: string, now = Date.now()): string {
  return `${address};${now};${signature(secret, address, now).toString('base64url')}`;
}

/** The address a header vouches for, or null when it is malformed, stale or not signed with `secret`. */
export function verifyClientAddress(secret: string, header: string, now = Date.now()): string | null {
  const parts = header.split(';');
  if (parts.length !== 3) return null;
  const [address, atText, signed] = parts;
  if (!ADDRESS.test(address) || !/^\d{1,16}$/.test(atText)) return null;
  const at = Number(atText);
  if (Math.abs(now - at) > SIGNATURE_MAX_AGE_MS) return null;
  const expected = signature(secret, address, at);
  const presented = Buffer.from(signed, 'base64url');
  return presented.length === expected.length && timingSafeEqual(presented, expected) ? address : null;
}

/**
 * The request's body as text, read through a counting reader and abandoned as soon as it passes
 * `limit` bytes; null when it does (or when its Content-Length says it will, before a byte is read).
 * So an oversized body costs the proxy at most `limit` bytes of memory, never the whole of it.
 */
export async function readBodyWithin(request: Request, limit = MAX_BODY_BYTES): Promise<string | null> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) return null;
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
