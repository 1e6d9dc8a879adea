/**
 * Checks on a request's values that hold for every argument, run before any resolver: no string may
 * carry a NUL character, which PostgreSQL's text cannot store (the statement would fail as a server
 * error). Literals in the document and the variables (JSON values included, at any depth) are read.
 */
import { Kind, type DocumentNode, type ValueNode } from 'graphql';
import { inputError, type ApiError } from '../errors.ts';

type Path = (string | number)[];

const HAS_NUL = (text: string) => text.includes('\u0000');

/** The path of the first string in `value` (a JSON value) with a NUL; walked without recursion, so any depth is safe. */
function nulInJson(value: unknown, base: Path): Path | null {
  const stack: [unknown, Path][] = [[value, base]];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      if (HAS_NUL(item)) return path;
    } else if (Array.isArray(item)) {
      item.forEach((entry, i) => stack.push([entry, [...path, i]]));
    } else if (item !== null && typeof item === 'object') {
      for (const [key, entry] of Object.entries(item)) {
        if (HAS_NUL(key)) return [...path, key];
        stack.push([entry, [...path, key]]);
      }
    }
  }
  return null;
}

function nulInLiteral(value: ValueNode, base: Path): Path | null {
  const stack: [ValueNode, Path][] = [[value, base]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (node.kind === Kind.STRING && HAS_NUL(node.value)) return path;
    if (node.kind === Kind.LIST) node.values.forEach((entry, i) => stack.push([entry, [...path, i]]));
    if (node.kind === Kind.OBJECT) for (const field of node.fields) stack.push([field.value, [...path, field.name.value]]);
  }
  return null;
}

/** BAD_USER_INPUT naming the first argument (or variable) whose value holds a NUL character; null when none does. */
export function nulCharacterError(document: DocumentNode, variables: Readonly<Record<string, unknown>>): ApiError | null {
  const inVariables = nulInJson(variables, []);
  if (inVariables) return inputError(inVariables, 'a NUL character (\\u0000) cannot be stored; remove it');
  let found: Path | null = null;
  const visitArguments = (node: { arguments?: readonly { name: { value: string }; value: ValueNode }[] }) => {
    for (const argument of node.arguments ?? []) found ??= nulInLiteral(argument.value, [argument.name.value]);
  };
  // Arguments sit on fields and directives, anywhere in the operations and fragments.
  const stack: unknown[] = [...document.definitions];
  while (stack.length > 0 && !found) {
    const node = stack.pop() as {
      kind?: string;
      arguments?: never;
      selectionSet?: { selections: unknown[] };
      directives?: unknown[];
      variableDefinitions?: { defaultValue?: ValueNode; variable: { name: { value: string } } }[];
    };
    if (node.kind === Kind.FIELD || node.kind === Kind.DIRECTIVE) visitArguments(node as Parameters<typeof visitArguments>[0]);
    for (const definition of node.variableDefinitions ?? [])
      if (definition.defaultValue) found ??= nulInLiteral(definition.defaultValue, [definition.variable.name.value]);
    stack.push(...(node.selectionSet?.selections ?? []), ...(node.directives ?? []));
  }
  return found ? inputError(found, 'a NUL character (\\u0000) cannot be stored; remove it') : null;
}
