/** A team's API tokens: listed, created with an expiry, revoked; always the caller's own team's. */
import { z } from 'zod';
import { createToken, DEFAULT_TOKEN_DAYS, listTokens, revokeToken, tokenDaysSchema, tokenLabelSchema, TokenLimitError } from '../../auth/tokens.ts';
import { ApiError, notFound, parseInput } from '../../errors.ts';
import type { ApiToken } from '../../generated/prisma/client.ts';
import type { RequestContext } from '../context.ts';

const idSchema = z.uuid('not a valid id');

export const tokenResolvers = {
  Query: {
    async viewer(_: unknown, __: unknown, ctx: RequestContext) {
      if (!ctx.client.authorization?.trim()) return null;
      const { team, tokenId } = await ctx.requireViewer();
      const token = await ctx.services.prisma.apiToken.findUniqueOrThrow({ where: { id: tokenId } });
      return { team, token };
    },
    async apiTokens(_: unknown, __: unknown, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      return listTokens(ctx.services.prisma, team.id);
    },
  },
  Mutation: {
    async createApiToken(_: unknown, args: { name: unknown; expiresInDays?: unknown }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      const name = parseInput(tokenLabelSchema, args.name, ['name']);
      const days = parseInput(tokenDaysSchema, args.expiresInDays ?? DEFAULT_TOKEN_DAYS, ['expiresInDays']);
      try {
        const created = await createToken(ctx.services.prisma, team.id, name, days);
        return { id: created.id, name: created.label, team, prefix: created.prefix, expiresAt: created.expiresAt, token: created.token };
      } catch (err) {
        if (err instanceof TokenLimitError) throw new ApiError('CONFLICT', err.message);
        throw err;
      }
    },
    async revokeApiToken(_: unknown, args: { id: unknown }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      const id = parseInput(idSchema, args.id, ['id']);
      const revoked = await revokeToken(ctx.services.prisma, team.id, { id });
      // Another team's token answers as one that does not exist: its id tells nothing.
      if (!revoked) throw notFound(`API token ${id} of team ${team.name}`);
      return revoked;
    },
  },
  ApiToken: {
    name: (token: ApiToken) => token.label,
  },
};
