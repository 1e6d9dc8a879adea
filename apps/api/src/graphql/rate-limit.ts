/**
 * Rate limits, in Redis so that every API process behind one address shares each budget: per
 * minute (a fixed window), mutations by the count of mutation fields, queries by their cost as
 * limits.ts measures it. The budget is a valid token's, else the client address's, so that made-up
 * tokens cannot each open a fresh budget. Over the budget, the operation is refused before any resolver runs
 * with RATE_LIMITED, `retryAfterSeconds`, HTTP 429 and a Retry-After header.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RequestContext } from './context.ts';
import { MAX_COST, MAX_DEPTH, operationMeasure } from './limits.ts';

export interface RateLimits {
  /** mutation fields per key and minute; 0 turns the limit off */
  mutationsPerMinute: number;
  /** summed query cost per key and minute; 0 turns the limit off */
  queryCostPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  mutationsPerMinute: 60,
  // A hundred queries at the cost limit a minute, or some 1,300 run pages (1,544 each): the web app's
  // server-side reads all come from its one address unless the API trusts its X-Forwarded-For (TRUST_PROXY).
  queryCostPerMinute: 2_000_000,
};

const WINDOW_MS = 60_000;

/** RATE_LIMIT_MUTATIONS_PER_MINUTE and RATE_LIMIT_QUERY_COST_PER_MINUTE (0: no limit). */
export const rateLimitEnvSchema = z.object({
  RATE_LIMIT_MUTATIONS_PER_MINUTE: z.coerce.number().int().min(0).default(DEFAULT_RATE_LIMITS.mutationsPerMinute),
  // Below the cost limit, a query that passes it could never run.
  RATE_LIMIT_QUERY_COST_PER_MINUTE: z.coerce
    .number()
    .int()
    .refine((n) => n === 0 || n >= MAX_COST, `must be 0 (no limit) or at least the cost limit of one query, ${MAX_COST}`)
    .default(DEFAULT_RATE_LIMITS.queryCostPerMinute),
});

/** Adds `amount` to the window's counter, which expires with its window; answers the new total and the milliseconds left. */
const CHARGE = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {total, redis.call('PTTL', KEYS[1])}
`;

/** Mutation fields at the root, through fragments: `mutation { a: m1 b: m1 }` is two. */
function rootFieldCount(set: SelectionSetNode, fragments: Readonly<Record<string, FragmentDefinitionNode>>, seen: ReadonlySet<string>): number {
  let count = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) count += selection.name.value.startsWith('__') ? 0 : 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += rootFieldCount(selection.selectionSet, fragments, seen);
    else {
      const fragment = fragments[selection.name.value];
      if (fragment && !seen.has(fragment.name.value)) count += rootFieldCount(fragment.selectionSet, fragments, new Set([...seen, fragment.name.value]));
    }
  }
  return count;
}

function mutationCount(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  return rootFieldCount(operation.selectionSet, fragments, new Set());
}

/** How long a request waits for Redis to count it: its client waits out an outage rather than fail. */
const CHARGE_TIMEOUT_MS = 500;

async function charge(redis: Redis, key: string, amount: number): Promise<[number, number]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis gave no answer in ${CHARGE_TIMEOUT_MS} ms`)), CHARGE_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([redis.eval(CHARGE, 1, key, amount, WINDOW_MS), timeout])) as [number, number];
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The budget a request is charged to: its token's when the token is valid (the check is the
 * request's own requireTeam, whose scrypt auth/tokens.ts pays once per token and process), else
 * its client address's.
 */
async function keyOf(ctx: RequestContext): Promise<string> {
  const { ip, authorization } = ctx.client;
  const address = `ip:${ip}`;
  if (!authorization?.trim()) return address;
  try {
    await ctx.requireTeam();
  } catch {
    return address;
  }
  // Verified, so the header reads `Bearer isa_<prefix>_<secret>`: the prefix is the token's public name.
  return `token:${authorization.replace(/^Bearer\s+/i, '').trim().split('_')[1]}`;
}

export function rateLimitPlugin(redis: Redis, limits: RateLimits): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operation, contextValue }) {
          if (!operation || operation.operation === 'subscription') return;
          const mutation = operation.operation === 'mutation';
          const budget = mutation ? limits.mutationsPerMinute : limits.queryCostPerMinute;
          if (budget <= 0) return;
          const measured = operationMeasure(schema, document, operation, request.variables ?? {});
          // queryLimitsPlugin refuses it (Apollo runs the plugins' hooks side by side): not charged.
          if (measured.depth > MAX_DEPTH || measured.cost > MAX_COST) return;
          const amount = mutation ? mutationCount(document, operation) : measured.cost;
          if (amount <= 0) return;
          const window = Math.floor(Date.now() / WINDOW_MS);
          const key = `infsplign:ratelimit:${mutation ? 'mutations' : 'query-cost'}:${await keyOf(contextValue)}:${window}`;
          const charged = await charge(redis, key, amount).catch((err: Error) => {
            // Reads must go on while Redis is away (the queues wait for it): the limit fails open.
            contextValue.services.logger.warn({ err: err.message }, 'rate limit not checked');
            return null;
          });
          if (!charged) return;
          const [total, ttlMs] = charged;
          if (total <= budget) return;
          const retryAfterSeconds = Math.max(1, Math.ceil((ttlMs > 0 ? ttlMs : WINDOW_MS) / 1000));
          const what = mutation ? `${budget} mutations a minute` : `a query cost of ${budget} a minute`;
          throw new GraphQLError(`rate limit of ${what} reached; retry in ${retryAfterSeconds} s`, {
            extensions: { code: 'RATE_LIMITED', retryAfterSeconds, http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } },
          });
        },
      };
    },
  };
}
