/**
 * The per-request context: the shared services and the caller's team, looked up from the bearer
 * token only when a resolver needs it (queries are open; mutations call `requireTeam`).
 */
import { verifyToken } from '../auth/tokens.ts';
import { ApiError } from '../errors.ts';
import type { Team } from '../generated/prisma/client.ts';
import type { Services } from '../services.ts';

export interface RequestContext {
  services: Services;
  /** the caller's team; UNAUTHENTICATED when the request has no valid token */
  requireTeam(): Promise<Team>;
  /** who sent the request, for the rate limits (graphql/rate-limit.ts) */
  client: { ip: string; authorization: string | undefined };
}

export function createRequestContext(services: Services, authorization: string | undefined, clientIp = 'unknown'): RequestContext {
  let team: Promise<Team> | undefined;
  const requireTeam = () => {
    team ??= (async () => {
      if (!authorization?.trim()) throw new ApiError('UNAUTHENTICATED', 'this operation needs an API token: send the header Authorization: Bearer <token> (npm run token -- --team NAME makes one)');
      if (!/^Bearer\s+\S/i.test(authorization)) throw new ApiError('UNAUTHENTICATED', 'the Authorization header must read Bearer <token>');
      const found = await verifyToken(services.prisma, authorization);
      if (!found) throw new ApiError('UNAUTHENTICATED', 'the API token is malformed, unknown or revoked');
      return found;
    })();
    return team;
  };
  return {
    services,
    requireTeam,
    client: { ip: clientIp, authorization },
  };
}
