/**
 * A validation rule graphql-js 16 lacks (17 has it as KnownOperationTypesRule): an operation of a
 * type the schema has no root for, e.g. a subscription here, is the request's fault. Without it
 * execution fails late and Apollo answers an internal error.
 */
import { GraphQLError, type ValidationRule } from 'graphql';

export const knownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`this API has no ${node.operation} operations`, { nodes: node }));
    }
  },
});
