/** The arena's methods: the registry the API's catalogue, submissions and forms are read from. */
export { findMethod, methodNames, registeredMethods, requireMethod, UnknownMethodError } from '../methods/registry.ts';
export { ARENA_GRID_SIZE } from '../methods/method.ts';
export type { AnyMethod, ArenaTuning, MethodDefinition } from '../methods/method.ts';
