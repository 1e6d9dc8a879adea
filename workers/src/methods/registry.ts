/**
 * The methods of the arena: the only list of them. A method is registered here by one line; the
 * sampler, CLI, jobs, API (catalogue, submissions) and web app find it through this registry and need
 * no edit of their own. Registering two methods of one name is an error.
 */
import type { z } from 'zod';
import { attendAndExcite } from './attend-and-excite/index.ts';
import { baseline } from './baseline/index.ts';
import { conform } from './conform/index.ts';
import { divideAndBind } from './divide-and-bind/index.ts';
import { infsplign } from './infsplign/index.ts';
import { ARENA_GRID_SIZE, type AnyMethod } from './method.ts';
import { storm } from './storm/index.ts';

const METHOD_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

const methods = new Map<string, AnyMethod>();

export class UnknownMethodError extends Error {}

/** Adds a method; its name must be new and read like `attend-and-excite`. */
export function registerMethod(method: AnyMethod): void {
  if (!METHOD_NAME.test(method.name)) throw new Error(`method name '${method.name}' must be lower-case words joined by '-'`);
  if (methods.has(method.name)) throw new Error(`two methods are registered as '${method.name}'`);
  if (method.guidance && [...methods.values()].some((m) => m.guidance?.ioPrefix === method.guidance!.ioPrefix))
    throw new Error(`method ${method.name}: its graph prefix '${method.guidance.ioPrefix}' is another method's`);
  if (method.arena) checkArenaTuning(method);
  methods.set(method.name, method);
}

/** The arena's grid must name a numeric parameter of the method and hold ARENA_GRID_SIZE ascending values. */
function checkArenaTuning(method: AnyMethod): void {
  const { strength, grid } = method.arena!;
  const where = `method ${method.name}: arena`;
  if (!method.guidance) throw new Error(`${where}: the baseline has no strength to tune`);
  const field = method.params.schema.shape[strength] as z.ZodType | undefined;
  if (!field) throw new Error(`${where}: strength '${strength}' is not one of its parameters`);
  if (!field.safeParse(grid[0]).success) throw new Error(`${where}: strength '${strength}' does not take a number like ${grid[0]}`);
  if (grid.length !== ARENA_GRID_SIZE) throw new Error(`${where}: grid has ${grid.length} values, every method's has ${ARENA_GRID_SIZE}`);
  if (grid.some((v, i) => !Number.isFinite(v) || (i > 0 && v <= grid[i - 1]!)))
    throw new Error(`${where}: grid [${grid.join(', ')}] must be finite and ascending`);
}

registerMethod(baseline);
registerMethod(infsplign);
registerMethod(attendAndExcite);
registerMethod(divideAndBind);
registerMethod(conform);
registerMethod(storm);

/** The registered methods' names, in registration order. */
export function methodNames(): string[] {
  return [...methods.keys()];
}

export function registeredMethods(): AnyMethod[] {
  return [...methods.values()];
}

export function findMethod(name: string): AnyMethod | undefined {
  return methods.get(name);
}

/** The method of that name, or an error listing the known ones. */
export function requireMethod(name: string): AnyMethod {
  const method = methods.get(name);
  if (!method) throw new UnknownMethodError(`unknown method '${name}' (known: ${methodNames().join(', ')})`);
  return method;
}
