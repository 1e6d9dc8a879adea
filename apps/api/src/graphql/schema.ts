/** The SDL (schema.graphql) and its resolvers, for Apollo Server. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogResolvers } from './resolvers/catalog.ts';
import { leaderboardResolvers } from './resolvers/leaderboard.ts';
import { mutationResolvers } from './resolvers/mutations.ts';
import { queueHealthResolvers } from './resolvers/queue-health.ts';
import { runResolvers } from './resolvers/runs.ts';
import { tokenResolvers } from './resolvers/tokens.ts';
import { DateTime, JSONScalar } from './scalars.ts';

export const typeDefs = readFileSync(join(import.meta.dirname, 'schema.graphql'), 'utf8');

export const resolvers = {
  DateTime,
  JSON: JSONScalar,
  Query: { ...catalogResolvers.Query, ...runResolvers.Query, ...queueHealthResolvers.Query, ...leaderboardResolvers.Query, ...tokenResolvers.Query },
  Mutation: { ...mutationResolvers.Mutation, ...tokenResolvers.Mutation },
  ApiToken: tokenResolvers.ApiToken,
  Benchmark: catalogResolvers.Benchmark,
  PromptSet: catalogResolvers.PromptSet,
  Method: catalogResolvers.Method,
  Run: runResolvers.Run,
  ImageSet: runResolvers.ImageSet,
  Image: runResolvers.Image,
  ImageConnection: runResolvers.ImageConnection,
  RunComparison: runResolvers.RunComparison,
  LeaderboardRow: leaderboardResolvers.LeaderboardRow,
  BaselineComparison: leaderboardResolvers.BaselineComparison,
};
