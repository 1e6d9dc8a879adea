/** The SDL (schema.graphql) and its resolvers, for Apollo Server. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogResolvers } from './resolvers/catalog.ts';
import { leaderboardResolvers } from './resolvers/leaderboard.ts';
import { mutationResolvers } from './resolvers/mutations.ts';
import { queueHealthResolvers } from './resolvers/queue-health.ts';
import { runResolvers } from './resolvers/runs.ts';
import { tokenResolvers } from './resolvers/tokens.ts';
import type { Resolvers } from './generated/resolvers.ts';
import { DateTime, JSONScalar } from './scalars.ts';

export const typeDefs = readFileSync(join(import.meta.dirname, 'schema.graphql'), 'utf8');

/** Typed by the schema (scripts/codegen.ts): a resolver returning what its field's type cannot hold fails to compile. */
export const resolvers: Resolvers = {
  DateTime,
  JSON: JSONScalar,
  Query: { ...catalogResolvers.Query, ...runResolvers.Query, ...queueHealthResolvers.Query, ...leaderboardResolvers.Query, ...tokenResolvers.Query },
  Mutation: { ...mutationResolvers.Mutation, ...tokenResolvers.Mutation },
  ApiToken: tokenResolvers.ApiToken,
  Benchmark: catalogResolvers.Benchmark,
  PromptSet: catalogResolvers.PromptSet,
  Method: catalogResolvers.Method,
  Model: catalogResolvers.Model,
  Run: runResolvers.Run,
  ImageSet: runResolvers.ImageSet,
  Image: runResolvers.Image,
  ImageConnection: runResolvers.ImageConnection,
  RunComparison: runResolvers.RunComparison,
  LeaderboardRow: leaderboardResolvers.LeaderboardRow,
  BaselineComparison: leaderboardResolvers.BaselineComparison,
};
