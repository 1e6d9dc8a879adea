/** The mutations on runs and image sets (tokens.ts has the tokens'): each authenticates first, then validates, then writes. */
import { z } from 'zod';
import { parseInput } from '../../errors.ts';
import { cancelRun, deleteRun, retryRun } from '../../runs/control.ts';
import { createUpload, registerImageSet, rescoreRun, submitRun } from '../../runs/submit.ts';
import { stageClock } from '../../metrics.ts';
import type { RequestContext } from '../context.ts';
import { loadRun } from '../rows.ts';

const idSchema = z.uuid('not a valid id');

/** The run after a change, with what its fields read. */
async function reloaded(ctx: RequestContext, id: string) {
  return (await loadRun(ctx.services.prisma, id))!;
}

export const mutationResolvers = {
  Mutation: {
    async submitRun(_: unknown, args: { input: unknown }, ctx: RequestContext) {
      const clock = stageClock(ctx.services.metrics);
      const team = await ctx.requireTeam();
      clock.lap('token');
      const result = await submitRun(ctx.services, clock, team, args.input);
      clock.lap('reply');
      return result;
    },
    async createUpload(_: unknown, __: unknown, ctx: RequestContext) {
      return createUpload(ctx.services, await ctx.requireTeam());
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
      const clock = stageClock(ctx.services.metrics);
      const team = await ctx.requireTeam();
      clock.lap('token');
      const result = await rescoreRun(ctx.services, clock, team, parseInput(idSchema, args.runId, ['runId']), args.detector, args.threshold);
      clock.lap('reply');
      return result;
    },
    async deleteRun(_: unknown, args: { id: unknown }, ctx: RequestContext) {
      const team = await ctx.requireTeam();
      return deleteRun(ctx.services, team, parseInput(idSchema, args.id, ['id']));
    },
  },
};
