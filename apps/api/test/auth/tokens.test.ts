/**
 * API tokens against a throwaway PostgreSQL: only a salted hash is stored, and wrong, unknown,
 * malformed or revoked tokens get no team.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startPostgres, type PostgresServer } from '../../../../test/support/postgres.ts';
import { createToken, verifyToken } from '../../src/auth/tokens.ts';
import { closePrisma, createPrisma, type PrismaClient } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';

const ROOT = resolve(import.meta.dirname, '../../../..');

let server: PostgresServer;
let databaseUrl: string;
let prisma: PrismaClient;

before(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase('tokens');
  await migrate(databaseUrl);
  prisma = createPrisma(databaseUrl);
});

after(async () => {
  if (prisma) await closePrisma(prisma);
  await server?.stop();
});

test('a created token verifies to its team; only a salted scrypt hash is stored', async () => {
  const team = await prisma.team.create({ data: { name: 'alpha' } });
  const created = await createToken(prisma, team.id, 'laptop');
  assert.match(created.token, /^isa_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.equal(created.token.slice(4, 16), created.prefix);

  const row = await prisma.apiToken.findUniqueOrThrow({ where: { id: created.id } });
  assert.match(row.secretHash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  const secret = created.token.split('_').slice(2).join('_');
  assert.ok(!row.secretHash.includes(secret) && !JSON.stringify(row).includes(created.token), 'the token itself is not stored');
  assert.equal(row.lastUsedAt, null);

  assert.equal((await verifyToken(prisma, created.token))?.id, team.id);
  assert.equal((await verifyToken(prisma, `Bearer ${created.token}`))?.name, 'alpha');
  const used = await prisma.apiToken.findUniqueOrThrow({ where: { id: created.id } });
  assert.ok(used.lastUsedAt instanceof Date);

  // Same secret, two tokens: the salts make the hashes differ.
  const other = await createToken(prisma, team.id, 'ci');
  const otherRow = await prisma.apiToken.findUniqueOrThrow({ where: { id: other.id } });
  assert.notEqual(otherRow.secretHash.split('$')[4], row.secretHash.split('$')[4]);
});

test('wrong, unknown, malformed and revoked tokens get no team', async () => {
  const team = await prisma.team.create({ data: { name: 'beta' } });
  const { token, id } = await createToken(prisma, team.id, 'to revoke');
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  assert.equal(await verifyToken(prisma, token.slice(0, -1) + last), null, 'wrong secret, right prefix');
  assert.equal(await verifyToken(prisma, `isa_000000000000_${token.split('_').slice(2).join('_')}`), null, 'unknown prefix');
  for (const malformed of ['', 'Bearer ', 'isa_', token.slice(0, -1), `${token}x`, token.toUpperCase(), `Basic ${token}`]) {
    assert.equal(await verifyToken(prisma, malformed), null, `malformed: '${malformed}'`);
  }
  assert.equal((await verifyToken(prisma, token))?.id, team.id);

  assert.equal(await verifyToken(prisma, token.slice(0, -1) + last), null, 'wrong secret, right prefix, after the right one verified');

  await prisma.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
  assert.equal(await verifyToken(prisma, token), null, 'revoked, though it verified a moment ago');
});

test('a token verified once is not checked with scrypt again, unless its stored hash changed', async () => {
  const team = await prisma.team.create({ data: { name: 'gamma' } });
  const { token, id } = await createToken(prisma, team.id, 'cached');
  const other = await createToken(prisma, team.id, 'other');
  const timed = async () => {
    const started = performance.now();
    const found = await verifyToken(prisma, token);
    return { team: found?.id ?? null, ms: performance.now() - started };
  };
  const first = await timed();
  const again = [await timed(), await timed(), await timed()];
  assert.equal(first.team, team.id);
  assert.ok(again.every((a) => a.team === team.id));
  // A check costs one scrypt (tens of ms); a remembered token costs the row's read only.
  assert.ok(Math.min(...again.map((a) => a.ms)) < first.ms / 2, `remembered: ${again.map((a) => a.ms.toFixed(1))} ms vs first ${first.ms.toFixed(1)} ms`);
  // The row now holds another token's hash (as a rotation would): the remembered check no longer counts.
  const otherHash = (await prisma.apiToken.findUniqueOrThrow({ where: { id: other.id } })).secretHash;
  await prisma.apiToken.update({ where: { id }, data: { secretHash: otherHash } });
  assert.equal(await verifyToken(prisma, token), null);
});

test('npm run token creates the team once and prints a token that verifies', async () => {
  const env = { ...process.env, DATABASE_URL: databaseUrl };
  const first = await promisify(execFile)('npm', ['run', '--silent', 'token', '--', '--team', 'gamma', '--label', 'one'], { cwd: ROOT, env });
  // The script itself, without npm's start-up, for the second run and the usage error.
  const script = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { cwd: ROOT, env });
  const second = await script('--team', 'gamma');
  const tokens = [first.stdout.trim(), second.stdout.trim()];
  assert.match(first.stderr, /API token for team 'gamma' \(label 'one', prefix [0-9a-f]{12}\)\. It is shown only now/);
  assert.match(second.stderr, /\(label 'cli', prefix/);
  assert.equal(await prisma.team.count({ where: { name: 'gamma' } }), 1);
  for (const token of tokens) assert.equal((await verifyToken(prisma, token))?.name, 'gamma');
  assert.notEqual(tokens[0], tokens[1]);

  const missing = await script().then(
    () => assert.fail('token without --team succeeded'),
    (err: { stderr: string }) => err.stderr,
  );
  assert.match(missing, /--team is required \(usage: npm run token -- --team NAME \[--label LABEL\]\)/);
});
