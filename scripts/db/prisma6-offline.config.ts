// Prisma 6 configuration for `migrate diff --from-empty --to-schema-datamodel`, used only by
// scripts/db/diff.ts. Prisma 6's JavaScript schema engine (`engine: 'js'`) needs no native binary
// (none can be downloaded here, STACK-NOTES.md), but it wants a driver adapter, and through it asks
// the server for its version before diffing. Diffing a schema against nothing needs no database,
// so this adapter answers that one question for the PostgreSQL the project targets and refuses
// everything else, loudly, so that a Prisma upgrade that needs more fails instead of guessing.

/** Debian 12's PostgreSQL, the version the project runs (STACK-NOTES.md). */
const TARGET_VERSION = { text: 'PostgreSQL 15.18', number: 150018 };

const VERSION_PROBE = /^SELECT EXISTS\(SELECT 1 FROM pg_namespace WHERE nspname = \$1\), version\(\), current_setting\('server_version_num'\)::integer/;

// Column type codes of Prisma's driver-adapter interface (@prisma/driver-adapter-utils ColumnTypeEnum).
const BOOLEAN = 5;
const TEXT = 7;
const INT32 = 0;

function refuse(what: string): never {
  throw new Error(
    `scripts/db/prisma6-offline.config.ts: Prisma asked for ${what}, which an offline schema diff cannot give; see the comment at the top of that file`,
  );
}

function connection() {
  return {
    provider: 'postgres',
    adapterName: 'infsplign-offline-diff',
    getConnectionInfo: () => ({ schemaName: 'public', supportsRelationJoins: true }),
    async queryRaw(query: { sql: string; args: unknown[] }) {
      if (!VERSION_PROBE.test(query.sql)) refuse(`a query (${query.sql.slice(0, 120)})`);
      return {
        columnNames: ['exists', 'version', 'numeric_version'],
        columnTypes: [BOOLEAN, TEXT, INT32],
        rows: [[true, TARGET_VERSION.text, TARGET_VERSION.number]],
      };
    },
    executeRaw: async () => refuse('a statement'),
    executeScript: async () => refuse('a script'),
    startTransaction: async () => refuse('a transaction'),
    dispose: async () => {},
  };
}

export default {
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => ({
    provider: 'postgres',
    adapterName: 'infsplign-offline-diff',
    connect: async () => connection(),
    connectToShadowDb: async () => refuse('a shadow database'),
  }),
};
