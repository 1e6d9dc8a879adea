/**
 * Query limits, checked once an operation is validated and before any resolver runs: a maximum
 * selection depth, and a cost that nothing in the document can dodge.
 *
 * Cost: each field costs its weight (1, or FIELD_WEIGHTS' price of an expensive resolver), and what is
 * selected below a list is paid once per item it may hold: `first` (or the default page size) for a
 * paged field, the schema's real sizes for introspection lists (`__schema { types }` is every type),
 * UNPAGED_LIST_ITEMS for other lists (a connection's `edges` are its page, already counted). Aliases
 * are separate fields and each pays; introspection fields pay like any other; arguments are read as
 * execution will read them (literals, variables, and the variables' defaults: `$n: Int = 100` is 100).
 */
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  isUnionType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export { MAX_BODY_BYTES } from '../proxy-contract.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_DEPTH = 10;
export const MAX_COST = 20_000;
/**
 * The ceiling of an operation that only introspects (`__schema`, `__type`, `__typename` at its root):
 * the standard introspection query of development tools walks every field of every type, some 23,000
 * here, above MAX_COST. Its cost is charged to the rate limit like any query's.
 */
export const MAX_INTROSPECTION_COST = 50_000;
/**
 * The most lexical tokens a document may have, checked while it is parsed: past it parsing stops and
 * the request is refused (GRAPHQL_PARSE_FAILED), before validation, whose work grows with the
 * document. The web app's largest query has a few hundred; 1,000 aliases of an introspection have 14,000.
 */
export const MAX_TOKENS = 5_000;
/** What a list without paging (detections, metrics, timeline, leaderboard rows) is assumed to hold, for the cost. */
export const UNPAGED_LIST_ITEMS = 10;

/**
 * A comparison of two runs: both runs' scored images read and paired in one statement, then a
 * 1,000-resample bootstrap over their prompts, hundreds of milliseconds for runs of tens of
 * thousands of images. Priced at what 500 plain fields cost; a query may hold at most 40.
 */
export const COMPARISON_COST = 500;

/**
 * Whether __schema and __type are answered: GRAPHQL_INTROSPECTION (1 or 0) decides; unset, they are
 * except under NODE_ENV=production, where the schema is the repository's to read, not the API's to tell.
 */
export function introspectionFromEnv(nodeEnv: string | undefined, flag: '0' | '1' | undefined): boolean {
  return flag === undefined ? nodeEnv !== 'production' : flag === '1';
}

/** Resolvers whose work is far above a field's: their price instead of 1. */
export const FIELD_WEIGHTS: Readonly<Record<string, number>> = {
  'Query.compareRuns': COMPARISON_COST,
  // Each may compute the row's comparison with its baseline (once per row and request, whichever asks first).
  'BaselineComparison.comparison': COMPARISON_COST,
  'BaselineComparison.beyondNoise': COMPARISON_COST,
  // One statement over every FINISHED run of the benchmark with their figures (answered from memory while unchanged).
  'Query.leaderboard': 50,
  // Counts and the oldest job of three queues in Redis, two listings of runs.
  'Query.queueHealth': 50,
  // A count over the listing's whole range, not the page.
  'RunConnection.totalCount': 20,
  'ImageConnection.totalCount': 20,
};

/**
 * How many items each introspection list holds in this schema: `__Schema.types` is every type; a
 * type's fields (enum values, arguments, ...) are priced at their mean over the schema's types, rounded
 * up, so that walking every type's fields, as introspection tools do, is priced at least at the
 * schema's total number of fields.
 */
const introspectionSizes = new WeakMap<GraphQLSchema, Map<string, number>>();

function introspectionListSizes(schema: GraphQLSchema): Map<string, number> {
  let sizes = introspectionSizes.get(schema);
  if (sizes) return sizes;
  const types = Object.values(schema.getTypeMap());
  const directives = schema.getDirectives();
  const fields = types.flatMap((t) => (isObjectType(t) || isInterfaceType(t) ? Object.values(t.getFields()) : []));
  const mean = (counts: number[]) => Math.max(1, Math.ceil(counts.reduce((sum, n) => sum + n, 0) / Math.max(1, counts.length)));
  sizes = new Map([
    ['__Schema.types', types.length],
    ['__Schema.directives', directives.length],
    ['__Type.fields', mean(types.map((t) => (isObjectType(t) || isInterfaceType(t) ? Object.keys(t.getFields()).length : 0)))],
    ['__Type.inputFields', mean(types.map((t) => (isInputObjectType(t) ? Object.keys(t.getFields()).length : 0)))],
    ['__Type.enumValues', mean(types.map((t) => (isEnumType(t) ? t.getValues().length : 0)))],
    ['__Type.interfaces', mean(types.map((t) => (isObjectType(t) || isInterfaceType(t) ? t.getInterfaces().length : 0)))],
    ['__Type.possibleTypes', mean(types.map((t) => (isUnionType(t) ? t.getTypes().length : isInterfaceType(t) ? schema.getPossibleTypes(t).length : 0)))],
    ['__Field.args', mean(fields.map((f) => f.args.length))],
    ['__Directive.args', mean(directives.map((d) => d.args.length))],
    ['__Directive.locations', mean(directives.map((d) => d.locations.length))],
  ]);
  introspectionSizes.set(schema, sizes);
  return sizes;
}

export interface Measure {
  depth: number;
  cost: number;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  /** the operation's variables as execution coerces them (defaults applied); null when they do not coerce */
  variables: Record<string, unknown> | null;
}

/** The field a selection names on `parent`, the introspection meta-fields included; undefined for an unknown one. */
function fieldDefinition(walk: Walk, parent: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parent === walk.schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return parent.getFields()[name];
}

/**
 * Items a paged field may return: its `first` as execution will see it, else the default page size
 * (the resolver rejects sizes over the maximum). Variables that do not coerce fail the request at
 * execution; until then they are priced at the maximum.
 */
function pageSize(walk: Walk, definition: GraphQLField<unknown, unknown>, field: FieldNode): number {
  if (walk.variables === null) return MAX_PAGE_SIZE;
  let first: unknown;
  try {
    first = getArgumentValues(definition, field, walk.variables).first;
  } catch {
    return MAX_PAGE_SIZE;
  }
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  return typeof first === 'number' && Number.isInteger(first) && first > 0 ? Math.min(first, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
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
      const definition = fieldDefinition(walk, parent, selection.name.value);
      if (!definition) continue;
      const named = getNamedType(definition.type);
      const child = selection.selectionSet && isObjectType(named) ? measure(walk, selection.selectionSet, named, seen) : { depth: 0, cost: 0 };
      const key = `${parent.name}.${definition.name}`;
      const paged = definition.args.some((arg) => arg.name === 'first');
      // A connection's `edges` hold the page its field already paid for.
      const list = isListType(getNullableType(definition.type)) && !parent.name.endsWith('Connection');
      const items = paged ? pageSize(walk, definition, selection) : list ? (introspectionListSizes(walk.schema).get(key) ?? UNPAGED_LIST_ITEMS) : 1;
      // Introspection's type references nest (ofType { ofType { ... } }) without costing more than
      // their price says: its levels are not counted towards the depth, only the field that enters it.
      const introspection = parent.name.startsWith('__');
      add({ depth: child.depth + (introspection ? 0 : 1), cost: (FIELD_WEIGHTS[key] ?? 1) + items * child.cost });
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
export function operationMeasure(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
): Measure {
  const root = schema.getRootType(operation.operation);
  if (!root) return { depth: 0, cost: 0 };
  const fragments = fragmentsOf(document);
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 1 });
  return measure({ schema, fragments, variables: coerced.coerced ?? null }, operation.selectionSet, root, new Set());
}

/** The fragments of a document by name. */
export function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  return fragments;
}

/** The operation's root fields, through fragments: `{ a: m1 b: m1 }` is two. */
export function rootFields(document: DocumentNode, operation: OperationDefinitionNode): FieldNode[] {
  const fragments = fragmentsOf(document);
  const fields: FieldNode[] = [];
  const collect = (set: SelectionSetNode, seen: ReadonlySet<string>) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet, seen);
      else {
        const fragment = fragments[selection.name.value];
        if (fragment && !seen.has(fragment.name.value)) collect(fragment.selectionSet, new Set([...seen, fragment.name.value]));
      }
    }
  };
  collect(operation.selectionSet, new Set());
  return fields;
}

function introspectionOnly(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  return operation.operation === 'query' && rootFields(document, operation).every((field) => field.name.value.startsWith('__'));
}

/**
 * The errors for an operation over the depth or cost limit (none when within). Run after validation,
 * with the request's variables, by the Apollo plugin in server.ts; the errors ask for HTTP 400, as the
 * request itself is at fault.
 */
export function queryLimitErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  limits: { maxDepth: number; maxCost: number } = { maxDepth: MAX_DEPTH, maxCost: MAX_COST },
): GraphQLError[] {
  const { depth, cost } = operationMeasure(schema, document, operation, variables);
  const maxCost = introspectionOnly(document, operation) ? Math.max(limits.maxCost, MAX_INTROSPECTION_COST) : limits.maxCost;
  const name = operation.name ? ` '${operation.name.value}'` : '';
  const errors: GraphQLError[] = [];
  const http = { status: 400 };
  if (depth > limits.maxDepth) {
    errors.push(
      new GraphQLError(`operation${name} is ${depth} levels deep; the limit is ${limits.maxDepth}`, {
        extensions: { code: 'QUERY_TOO_DEEP', depth, maxDepth: limits.maxDepth, http },
      }),
    );
  }
  if (cost > maxCost) {
    errors.push(
      new GraphQLError(`operation${name} costs ${cost}; the limit is ${maxCost} (ask for smaller pages or fewer nested lists)`, {
        extensions: { code: 'QUERY_TOO_COSTLY', cost, maxCost, http },
      }),
    );
  }
  return errors;
}
