/**
 * The methods of the arena: the only list of them. A method is registered here by one line; the
 * sampler, CLI, jobs, API (catalogue, submissions) and web app find it through this registry and need
 * no edit of their own. Registering two methods of one name is an error.
 */
import { attendAndExcite } from './attend-and-excite/index.ts';
import { baseline } from './baseline/index.ts';
import { conform } from './conform/index.ts';
import { divideAndBind } from './divide-and-bind/index.ts';
import { infsplign } from './infsplign/index.ts';
import type { AnyMethod } from './method.ts';
import { storm } from './storm/index.ts';

const METHOD_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

const methods = new Map<string, AnyMethod>();

export class UnknownMethodError extends Error {}

/** Adds a method; its name must be new and read like `attend-and-excite`. */
export function registerMethod(method: AnyMethod): void {
  if (!METHOD_NAME.test(method.name)) throw new Error(`method name '${method.name}' must be lower-case words joined by '-'`);
  if (methods.has(method.name)) throw new Error(`two methods are registered as '${method.name}'`);
  if (method.guidance && [...methods.values()].some((m) => m.guidance?.ioPrefix === method.guidance!.ioPrefix)) throw new Error(`method ${method.name}: its graph prefix '${method.guidance.ioPrefix}' is another method's`);
  methods.set(method.name, method);
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
