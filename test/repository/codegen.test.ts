/**
 * One source of truth for the GraphQL types (scripts/codegen.ts): the committed generated files are
 * what apps/api/src/graphql/schema.graphql and the web app's documents give today (the CI check); a
 * web document asking for a field the schema lacks is refused by codegen, and `graphql(...)` of it
 * does not compile (tsc: the generated function has an overload per document codegen validated); the enums the database and the schema both declare have the same values.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildSchema, GraphQLEnumType } from 'graphql';
import { ImageSetKind, RunKind, RunStatus } from '../../apps/api/src/generated/prisma/enums.ts';
import { codegenConfig, generatedFiles, staleFiles } from '../../scripts/codegen.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const WEB = join(ROOT, 'apps/web');
const scratch = mkdtempSync(join(tmpdir(), 'infsplign-codegen-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A page of the web app reading `document` through the browser's client, as LiveProgress does. */
function pageReading(document: string): string {
  return [
    `import { graphql } from '${WEB}/src/gql';`,
    `import { clientQuery } from '${WEB}/src/lib/client';`,
    `const QUERY = graphql(\`${document}\`);`,
    `export async function read(id: string) { return (await clientQuery(QUERY, { id })).run; }`,
    '',
  ].join('\n');
}

/** tsc on one file with the web app's compiler settings: its exit status and output. */
function typecheck(name: string, source: string): { status: number | null; output: string } {
  const file = join(scratch, `${name}.ts`);
  writeFileSync(file, source);
  const config = join(scratch, `${name}.tsconfig.json`);
  writeFileSync(config, JSON.stringify({ extends: join(WEB, 'tsconfig.json'), compilerOptions: { incremental: false, plugins: [] }, include: [file] }));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', config], { encoding: 'utf8' });
  return { status: tsc.status, output: tsc.stdout + tsc.stderr };
}

describe('GraphQL types generated from schema.graphql', { timeout: 180_000 }, () => {
  test('the committed generated files are current (npm run codegen writes them)', async () => {
    assert.deepEqual(staleFiles(await generatedFiles()), []);
  });

  test('a web document asking for a field the schema lacks: codegen refuses it, naming the field', async () => {
    const file = join(scratch, 'bad-document.ts');
    writeFileSync(file, pageReading('query BadRun($id: ID!) { run(id: $id) { id noSuchField } }'));
    await assert.rejects(generatedFiles(codegenConfig([file])), (err: Error) => {
      assert.match(String((err as { errors?: unknown[] }).errors?.map(String) ?? err.message), /Cannot query field "noSuchField" on type "Run"/);
      return true;
    });
  });

  test('and tsc fails on the page that reads it, while the same page with a document codegen knows compiles', () => {
    const known = readFileSync(join(WEB, 'src/components/LiveProgress.tsx'), 'utf8').match(/graphql\(`([\s\S]*?)`\)/)![1]!;
    const good = typecheck('known', pageReading(known));
    assert.equal(good.status, 0, good.output);
    const bad = typecheck('unknown', pageReading('\n  query BadRun($id: ID!) { run(id: $id) { id noSuchField } }\n'));
    assert.notEqual(bad.status, 0);
    // The generated graphql() has one overload per document it validated, so the call itself does not compile.
    assert.match(bad.output, /unknown\.ts\(3,[0-9]+\): error TS2769: No overload matches this call/, bad.output);
  });

  test('the enums the database and the schema both declare have the same values, in the same order', () => {
    const schema = buildSchema(readFileSync(join(ROOT, 'apps/api/src/graphql/schema.graphql'), 'utf8'));
    for (const [name, prisma] of Object.entries({ RunStatus, RunKind, ImageSetKind })) {
      const type = schema.getType(name);
      assert.ok(type instanceof GraphQLEnumType, name);
      assert.deepEqual(
        type.getValues().map((v) => v.value),
        Object.values(prisma),
        name,
      );
    }
  });
});
