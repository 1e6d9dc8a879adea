/** The arena's methods: the registry the API's catalogue, submissions and forms are read from. */
export { findMethod, methodNames, registeredMethods, requireMethod, UnknownMethodError } from '../methods/registry.ts';
export type { AnyMethod, MethodDefinition } from '../methods/method.ts';
