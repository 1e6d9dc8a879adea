/**
 * Query limits, checked once an operation is validated and before any resolver runs: a maximum
 * selection depth, and a simple cost: each field costs 1, and what is selected below a list is paid
 * once per item it may hold: `first` (or the default page size) for a paged field, UNPAGED_LIST_ITEMS
 * for other lists (a connection's `edges` are its page, already counted).
 */
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_DEPTH = 10;
export const MAX_COST = 20_000;
/** What a list without paging (detections, metrics, timeline) is assumed to hold, for the cost. */
export const UNPAGED_LIST_ITEMS = 10;
/** Express's JSON body limit for /graphql: a query plus its variables never needs more. */
export const MAX_BODY_BYTES = 100 * 1024;

/** Items a paged field may return: its `first` when given as a literal or variable, else the default page size (the resolver rejects sizes over the maximum). */
function pageSize(field: FieldNode, variables: Readonly<Record<string, unknown>>): number {
  const arg = field.arguments?.find((a) => a.name.value === 'first');
  if (!arg) return DEFAULT_PAGE_SIZE;
  const raw = arg.value.kind === Kind.INT ? Number(arg.value.value) : arg.value.kind === Kind.VARIABLE ? variables[arg.value.name.value] : undefined;
  return typeof raw === 'number' && Number.isInteger(raw) && raw > 0 ? Math.min(raw, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}

export interface Measure {
  depth: number;
  cost: number;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  variables: Readonly<Record<string, unknown>>;
}

/**
 * Depth and cost of a selection set on `parent`, fragments inlined. `seen` stops fragment cycles, which
 * graphql's own NoFragmentsCycles rule reports; unknown fields are left to FieldsOnCorrectType.
 */
function measure(walk: Walk, set: SelectionSetNode, parent: GraphQLObjectType, seen: ReadonlySet<string>): Measure {
  let depth = 0;
  let cost = 0;
  const add = (inner: Measure) => {
    depth = Math.max(depth, inner.depth);
    cost += inner.cost;
  };
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const definition = parent.getFields()[selection.name.value];
      if (!definition) continue;
      const named = getNamedType(definition.type);
      const child = selection.selectionSet && isObjectType(named) ? measure(walk, selection.selectionSet, named, seen) : { depth: 0, cost: 0 };
      const paged = definition.args.some((arg) => arg.name === 'first');
      // A connection's `edges` hold the page its field already paid for.
      const unpagedList = isListType(getNullableType(definition.type)) && !parent.name.endsWith('Connection');
      const items = paged ? pageSize(selection, walk.variables) : unpagedList ? UNPAGED_LIST_ITEMS : 1;
      add({ depth: child.depth + 1, cost: 1 + items * child.cost });
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? walk.schema.getType(selection.typeCondition.name.value) : parent;
      if (isObjectType(type)) add(measure(walk, selection.selectionSet, type, seen));
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments[name];
      const type = fragment && walk.schema.getType(fragment.typeCondition.name.value);
      if (fragment && !seen.has(name) && isObjectType(type)) add(measure(walk, fragment.selectionSet, type, new Set([...seen, name])));
    }
  }
  return { depth, cost };
}

/** Depth and cost of an operation (what the rate limit charges a query is its cost). */
export function operationMeasure(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): Measure {
  const root = schema.getRootType(operation.operation);
  if (!root) return { depth: 0, cost: 0 };
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  return measure({ schema, fragments, variables }, operation.selectionSet, root, new Set());
}

/**
 * The errors for an operation over the depth or cost limit (none when within). Run after validation,
 * with the request's variables (for `first: $n`), by the Apollo plugin in server.ts; the errors ask
 * for HTTP 400, as the request itself is at fault.
 */
export function queryLimitErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  limits: { maxDepth: number; maxCost: number } = { maxDepth: MAX_DEPTH, maxCost: MAX_COST },
): GraphQLError[] {
  const { depth, cost } = operationMeasure(schema, document, operation, variables);
  const name = operation.name ? ` '${operation.name.value}'` : '';
  const errors: GraphQLError[] = [];
  const http = { status: 400 };
  if (depth > limits.maxDepth) {
    errors.push(new GraphQLError(`operation${name} is ${depth} levels deep; the limit is ${limits.maxDepth}`, { extensions: { code: 'QUERY_TOO_DEEP', depth, maxDepth: limits.maxDepth, http } }));
  }
  if (cost > limits.maxCost) {
    errors.push(new GraphQLError(`operation${name} costs ${cost}; the limit is ${limits.maxCost} (ask for smaller pages or fewer nested lists)`, { extensions: { code: 'QUERY_TOO_COSTLY', cost, maxCost: limits.maxCost, http } }));
  }
  return errors;
}
