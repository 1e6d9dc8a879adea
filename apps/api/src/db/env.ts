import { z } from 'zod';

const databaseUrlSchema = z
  .string({ error: 'DATABASE_URL is not set (expected postgresql://user:password@host:port/database)' })
  .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgresql:// (or postgres://)')
  .refine((value) => URL.canParse(value), 'DATABASE_URL is not a valid URL');

/** DATABASE_URL from the environment, checked. */
export function databaseUrlFromEnv(): string {
  const result = databaseUrlSchema.safeParse(process.env.DATABASE_URL);
  if (!result.success) throw new Error(result.error.issues[0].message);
  return result.data;
}
