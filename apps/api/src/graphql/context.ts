/**
 * The per-request context: the shared services, who sent the request, and the caller's team, looked
 * up from the bearer token only when something needs it (the rate limits, to pick a budget; a
 * mutation, through `requireTeam`), and then once per request.
 */
import { verifyToken, type Verified } from '../auth/tokens.ts';
import { ApiError } from '../errors.ts';
import type { Team } from '../generated/prisma/client.ts';
import type { Services } from '../services.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface RequestContext {
  services: Services;
  /** this request's batched lookups (loaders.ts) */
  loaders: Loaders;
  /** the token's team, or why there is none (a missing or malformed header counts as malformed) */
  authenticate(): Promise<Verified>;
  /** the caller's team; UNAUTHENTICATED when the request has no valid token */
  requireTeam(): Promise<Team>;
  /** the caller's team and token id (requireTeam's checks) */
  requireViewer(): Promise<{ team: Team; tokenId: string }>;
  /** who sent the request, for the rate limits: the address server.ts settled on (never one a browser chose) */
  client: { address: string; authorization: string | undefined };
}

const REFUSED: Record<Exclude<Verified, { team: Team }>['refusal'], string> = {
  malformed: 'the API token is malformed: send the header Authorization: Bearer isa_<prefix>_<secret>',
  refused: 'the API token is unknown, revoked or expired (npm run token -- --team NAME makes a new one)',
  scrypt: 'the API token was made before tokens were stored by SHA-256 and was revoked then; make a new one (npm run token -- --team NAME, or createApiToken)',
};

export function createRequestContext(services: Services, authorization: string | undefined, clientAddress: string): RequestContext {
  let verified: Promise<Verified> | undefined;
  const authenticate = () =>
    (verified ??= authorization?.trim() ? verifyToken(services.prisma, authorization) : Promise.resolve({ refusal: 'malformed' as const }));
  const requireViewer = async () => {
    if (!authorization?.trim())
      throw new ApiError(
        'UNAUTHENTICATED',
        'this operation needs an API token: send the header Authorization: Bearer <token> (npm run token -- --team NAME makes one)',
      );
    if (!/^Bearer\s+\S/i.test(authorization)) throw new ApiError('UNAUTHENTICATED', 'the Authorization header must read Bearer <token>');
    const result = await authenticate();
    if ('refusal' in result) throw new ApiError('UNAUTHENTICATED', REFUSED[result.refusal]);
    return result;
  };
  const requireTeam = async () => (await requireViewer()).team;
  return { services, loaders: createLoaders(services.prisma), authenticate, requireTeam, requireViewer, client: { address: clientAddress, authorization } };
}
