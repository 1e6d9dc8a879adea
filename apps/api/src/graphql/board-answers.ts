/**
 * Leaderboard answers built row by row, and kept. A `leaderboard` query's answer is the list of its
 * rows' answers, and a row's answer depends on nothing but the row and the query: rows are immutable
 * objects that stay the same object while nothing about them changes (board-snapshot.ts, rankBoard).
 * So each row's part is executed once per query and kept with the row: a run finishing costs the
 * execution of its own row (and of the rows whose rank or leader it changes), not of the whole board,
 * and an unchanged board's answer is kept whole, as the text that is sent.
 *
 * Only an operation whose one root field is `leaderboard` and that selects nothing but ROW_FIELDS,
 * fields computed from the row alone (not Run.timeline or Run.aggregates, which read the database
 * on every request), takes this path; any other operation, and anything that goes wrong (arguments
 * the resolver refuses, an error in a row), is executed as usual.
 */
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContext } from '@apollo/server';
import {
  execute,
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FormattedExecutionResult,
  type FragmentDefinitionNode,
  type InlineFragmentNode,
  type GraphQLObjectType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { RequestContext } from './context.ts';
import { BOARD_ROWS, leaderboard, type LeaderboardRow } from './resolvers/leaderboard.ts';

/** The fields, per type, whose values come from a leaderboard row alone (and the comparisons of finished runs, which never change). */
const ROW_FIELDS: Record<string, ReadonlySet<string>> = {
  LeaderboardRow: new Set([
    'rank',
    'ranked',
    'promptsScored',
    'imagesScored',
    'run',
    'method',
    'configHash',
    'isBaseline',
    'model',
    'detector',
    'threshold',
    'metrics',
    'cost',
    'versusBaseline',
    'versusLeader',
  ]),
  Run: new Set([
    'id',
    'kind',
    'status',
    'team',
    'model',
    'method',
    'config',
    'configHash',
    'benchmark',
    'promptSet',
    'detector',
    'threshold',
    'seed',
    'imagesPerPrompt',
    'limit',
    'progress',
    'error',
    'createdAt',
    'updatedAt',
    'finishedAt',
  ]),
  Team: new Set(['id', 'name']),
  Model: new Set(['id', 'name', 'family']),
  PromptSet: new Set(['id', 'name', 'benchmark']),
  RunProgress: new Set(['prompts', 'totalImages', 'imagesGenerated', 'imagesEvaluated', 'fraction']),
  MetricValue: new Set(['key', 'value', 'low', 'high']),
  RunCost: new Set(['secondsPerImage', 'unetEvaluationsPerImage', 'backwardPassesPerImage', 'device', 'images']),
  BaselineComparison: new Set(['baseline', 'deltas', 'primary', 'metrics', 'beyondNoise']),
  LeaderComparison: new Set(['leader', 'primary', 'tiedWithinNoise']),
  MetricComparison: new Set(['key', 'a', 'b', 'difference', 'low', 'high', 'test', 'p', 'beyondNoise']),
};

/** Queries whose answers one row (or one board) keeps; beyond it the least recently made goes. */
const KEPT_QUERIES = 4;

interface RowAnswer {
  value: unknown;
  json: string;
}

/** Per row, its answers by query (document, operation and variables). */
const rowAnswers = new WeakMap<LeaderboardRow, Map<string, RowAnswer>>();
/** Per board (its rows array, replaced whenever a row is), whole answers by query. */
const boardAnswers = new WeakMap<readonly LeaderboardRow[], Map<string, Record<string, unknown>>>();
/** The response text of each `data` this module answered with (stringifyResult sends it as it is). */
const bodies = new WeakMap<object, string>();

function keep<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  if (map.size > KEPT_QUERIES) map.delete(map.keys().next().value!);
}

/** The operation's one root field when it is a `leaderboard` field without directives; else null. */
function soleLeaderboardField(operation: OperationDefinitionNode): FieldNode | null {
  const [only, ...more] = operation.selectionSet.selections;
  if (operation.operation !== 'query' || more.length > 0 || only?.kind !== Kind.FIELD) return null;
  return only.name.value === 'leaderboard' && !only.directives?.length && only.selectionSet ? only : null;
}

/** Whether `selectionSet` on `type` (through fragments) selects nothing but ROW_FIELDS. */
function rowFieldsOnly(document: DocumentNode, selectionSet: SelectionSetNode, type: GraphQLObjectType): boolean {
  const allowed = ROW_FIELDS[type.name];
  if (!allowed) return false;
  return selectionSet.selections.every((selection) => {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === '__typename') return true;
      if (!allowed.has(name)) return false;
      if (!selection.selectionSet) return true;
      const fieldType = getNamedType(type.getFields()[name]!.type);
      return isObjectType(fieldType) && rowFieldsOnly(document, selection.selectionSet, fieldType);
    }
    const fragment: InlineFragmentNode | FragmentDefinitionNode | undefined =
      selection.kind === Kind.INLINE_FRAGMENT
        ? selection
        : document.definitions.find((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
    if (!fragment || (fragment.typeCondition && fragment.typeCondition.name.value !== type.name)) return false;
    return rowFieldsOnly(document, fragment.selectionSet, type);
  });
}

/** The answer, or null to leave the operation to the usual execution. */
async function answer({ request, operation, document, schema, contextValue }: GraphQLRequestContext<RequestContext>): Promise<Record<string, unknown> | null> {
  const field = operation && soleLeaderboardField(operation);
  const rowType = schema.getType('LeaderboardRow');
  if (!field || !document || request.query === undefined || !isObjectType(rowType) || !rowFieldsOnly(document, field.selectionSet!, rowType)) return null;
  const variables = getVariableValues(schema, operation!.variableDefinitions ?? [], request.variables ?? {});
  if (variables.errors) return null;
  let rows: LeaderboardRow[];
  try {
    rows = await leaderboard(getArgumentValues(schema.getQueryType()!.getFields().leaderboard!, field, variables.coerced), contextValue);
  } catch {
    return null;
  }
  const key = JSON.stringify([request.query, request.operationName ?? null, request.variables ?? {}]);
  const name = (field.alias ?? field.name).value;
  let kept = boardAnswers.get(rows);
  if (!kept) boardAnswers.set(rows, (kept = new Map()));
  const whole = kept.get(key);
  if (whole) return whole;

  const answers = rows.map((row) => rowAnswers.get(row)?.get(key));
  const missing = rows.filter((_, i) => !answers[i]);
  if (missing.length > 0) {
    const result = await execute({
      schema,
      document,
      operationName: request.operationName,
      variableValues: request.variables,
      contextValue,
      rootValue: { [BOARD_ROWS]: missing },
    });
    if (result.errors?.length || !result.data) return null;
    const values = result.data[name] as unknown[];
    let next = 0;
    for (const [i, row] of rows.entries()) {
      if (answers[i]) continue;
      const value = values[next++];
      const made = { value, json: JSON.stringify(value) };
      answers[i] = made;
      let byQuery = rowAnswers.get(row);
      if (!byQuery) rowAnswers.set(row, (byQuery = new Map()));
      keep(byQuery, key, made);
    }
  }
  const done = answers as RowAnswer[];
  const data = { [name]: done.map((a) => a.value) };
  bodies.set(data, `{"data":{${JSON.stringify(name)}:[${done.map((a) => a.json).join(',')}]}}`);
  keep(kept, key, data);
  return data;
}

/** The plugin that answers leaderboard queries from the rows' kept answers (before the usual execution). */
export function boardAnswersPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation(requestContext) {
          const data = await answer(requestContext);
          return data && { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data } } };
        },
      };
    },
  };
}

/** The response text: as this module made it for a leaderboard answer, else JSON.stringify's. */
export function stringifyResult(result: FormattedExecutionResult): string {
  const made = result.data && result.errors === undefined && result.extensions === undefined ? bodies.get(result.data) : undefined;
  return made ?? JSON.stringify(result);
}
