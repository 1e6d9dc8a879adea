/** The mutations: each authenticates first, then validates, then writes. */
import { z } from 'zod';
import { createToken } from '../../auth/tokens.ts';
import { parseInput } from '../../errors.ts';
import { cancelRun, deleteRun, retryRun } from '../../runs/control.ts';
import { registerImageSet, rescoreRun, submitRun } from '../../runs/submit.ts';
import type { RequestContext } from '../context.ts';
import { loadRun } from '../rows.ts';

const idSchema = z.uuid('not a valid id');
const tokenNameSchema = z.string().trim().min(1, 'a token needs a name').max(100);

/** The run after a change, with what its fields read. */
async function reloaded(ctx: RequestContext, id: string) {
  return (await loadRun(ctx.services.prisma, id))!;
}

export const mutationResolvers = {
  Mutation: {
    async submitRun(_: unknown, args: { input: unknown }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      const { run, reused } = await submitRun(ctx.services, team, args.input);
      return { run: await reloaded(ctx, run.id), reused };
    },
    async registerImageSet(_: unknown, args: { prefix: unknown }, ctx: RequestContext) {
      return registerImageSet(ctx.services, await ctx.requireTeam(), args.prefix);
    },
    async cancelRun(_: unknown, args: { id: unknown }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      const run = await cancelRun(ctx.services, team, parseInput(idSchema, args.id, ['id']));
      return reloaded(ctx, run.id);
    },
    async retryRun(_: unknown, args: { id: unknown }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      const run = await retryRun(ctx.services, team, parseInput(idSchema, args.id, ['id']));
      return reloaded(ctx, run.id);
    },
    async rescoreRun(_: unknown, args: { runId: unknown; detector?: string | null; threshold?: number | null }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      const { run, reused } = await rescoreRun(ctx.services, team, parseInput(idSchema, args.runId, ['runId']), args.detector, args.threshold);
      return { run: await reloaded(ctx, run.id), reused };
    },
    async deleteRun(_: unknown, args: { id: unknown }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      return deleteRun(ctx.services, team, parseInput(idSchema, args.id, ['id']));
    },
    async createApiToken(_: unknown, args: { name: unknown }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      const created = await createToken(ctx.services.prisma, team.id, parseInput(tokenNameSchema, args.name, ['name']));
      return { id: created.id, name: created.label, team, token: created.token };
    },
  },
};
