/**
 * The methods as the API serves them: every one from the workers' registry (methods/registry.ts), so
 * a method added there is offered, validated and stored without an edit here; its database row is made
 * on first use. A method's defaults for a model are its family's, replaced by the model folder's files
 * as the seed stored them (contracts/model-defaults.ts).
 */
import { methodDefaults, type ModelFamily, modelDefaultsSchema } from '@infsplign/workers/contracts';
import { type AnyMethod, findMethod, methodNames } from '@infsplign/workers/methods';
import { z } from 'zod';
import { inputError, type FieldPath } from '../errors.ts';
import type { Prisma } from '../generated/prisma/client.ts';

/** A method's defaults for a model: its family's, replaced by the model folder's files as the seed stored them (contracts/model-defaults.ts). */
export function modelDefaults(model: { name: string; family: ModelFamily | null; defaultParams: unknown }, method: AnyMethod): Record<string, unknown> {
  if (model.defaultParams === null || model.defaultParams === undefined) return methodDefaults(method, model.family ?? 'custom', null);
  const stored = modelDefaultsSchema.safeParse(model.defaultParams);
  if (!stored.success) throw new Error(`model ${model.name}: its stored defaults are invalid (${stored.error.issues[0].message}); run npm run db:seed`);
  return methodDefaults(method, model.family ?? 'custom', stored.data);
}

/** The method a submission names, from the registry (methods/registry.ts). */
export function submittedMethod(name: string, path: FieldPath): AnyMethod {
  const method = findMethod(name);
  if (!method) throw inputError(path, `unknown method '${name}' (known: ${methodNames().join(', ')})`);
  return method;
}

/** A method as the catalogue lists it (the GraphQL Method's parent). */
export type CatalogueMethod = { name: string } & ReturnType<typeof methodRowFields>;

/** The database row of a registered method (made on first use, so a method added to the registry needs no reseeding). */
export function methodRowFields(method: AnyMethod): { description: string; paramSchema: Prisma.InputJsonObject } {
  return { description: method.description, paramSchema: z.toJSONSchema(method.params.schema) as Prisma.InputJsonObject };
}
