/**
 * CORS for direct browser access: only the web app's own origins get Access-Control-Allow-Origin
 * (and an answered preflight). The web app normally proxies the browser's requests server-side,
 * where CORS plays no part; any other site's scripts get no readable answer from the API.
 */
import type { RequestHandler } from 'express';

export const DEFAULT_WEB_ORIGINS = ['http://127.0.0.1:3000', 'http://localhost:3000'] as const;

/** WEB_ORIGIN: one origin or several, comma-separated, as a browser sends them (scheme://host[:port]). */
export function webOriginsFromEnv(value: string | undefined): string[] {
  if (!value?.trim()) return [...DEFAULT_WEB_ORIGINS];
  return value.split(',').map((origin) => {
    const trimmed = origin.trim();
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      throw new Error(`WEB_ORIGIN: '${trimmed}' is not a URL`);
    }
    if (!/^https?:$/.test(parsed.protocol) || parsed.origin !== trimmed.replace(/\/$/, ''))
      throw new Error(`WEB_ORIGIN: '${trimmed}' is not an origin (scheme://host[:port], no path)`);
    return parsed.origin;
  });
}

const PREFLIGHT_MAX_AGE_S = 600;

export function corsMiddleware(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    // The answer differs by Origin, so caches must keep them apart, allowed or not.
    res.vary('Origin');
    const origin = req.headers.origin;
    const ok = origin !== undefined && allowed.has(origin);
    if (ok) res.set('Access-Control-Allow-Origin', origin);
    if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) {
      next();
      return;
    }
    if (ok) {
      res.set({
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Apollo-Require-Preflight',
        'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_S),
      });
    }
    res.status(204).end();
  };
}
