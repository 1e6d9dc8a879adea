/**
 * API tokens against a throwaway PostgreSQL: only a SHA-256 is stored; wrong, unknown, malformed,
 * revoked, expired and scrypt-era tokens get no team; a refused token writes nothing; the `token`
 * script creates, lists and revokes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startPostgres, type PostgresServer } from '../../../../test/support/postgres.ts';
import { createToken, MAX_LIVE_TOKENS_PER_TEAM, TokenLimitError, verifyToken, type Verified } from '../../src/auth/tokens.ts';
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

const teamOf = (verified: Verified) => ('team' in verified ? verified.team : null);

test('a created token verifies to its team; only its SHA-256 is stored; it expires after 90 days by default', async () => {
  const team = await prisma.team.create({ data: { name: 'alpha' } });
  const created = await createToken(prisma, team.id, 'laptop');
  assert.match(created.token, /^isa_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.equal(created.token.slice(4, 16), created.prefix);

  const row = await prisma.apiToken.findUniqueOrThrow({ where: { id: created.id } });
  assert.equal(row.secretHash, `sha256$${createHash('sha256').update(created.token).digest('hex')}`);
  const secret = created.token.split('_').slice(2).join('_');
  assert.ok(!row.secretHash.includes(secret) && !JSON.stringify(row).includes(created.token), 'the token itself is not stored');
  assert.equal(row.lastUsedAt, null);
  const days = (row.expiresAt!.getTime() - row.createdAt.getTime()) / 86_400_000;
  assert.ok(Math.abs(days - 90) < 0.01, `expires after ${days} days`);

  assert.equal(teamOf(await verifyToken(prisma, created.token))?.id, team.id);
  assert.equal(teamOf(await verifyToken(prisma, `Bearer ${created.token}`))?.name, 'alpha');
  const used = await prisma.apiToken.findUniqueOrThrow({ where: { id: created.id } });
  assert.ok(used.lastUsedAt instanceof Date);
  assert.equal((await createToken(prisma, team.id, 'forever', null)).expiresAt, null);
});

test('wrong, unknown, malformed, revoked and expired tokens get no team, at once', async () => {
  const team = await prisma.team.create({ data: { name: 'beta' } });
  const { token, id } = await createToken(prisma, team.id, 'to revoke');
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  assert.deepEqual(await verifyToken(prisma, token.slice(0, -1) + last), { refusal: 'refused' }, 'wrong secret, right prefix');
  assert.deepEqual(await verifyToken(prisma, `isa_000000000000_${token.split('_').slice(2).join('_')}`), { refusal: 'refused' }, 'unknown prefix');
  for (const malformed of ['', 'Bearer ', 'isa_', token.slice(0, -1), `${token}x`, token.toUpperCase(), `Basic ${token}`]) {
    assert.deepEqual(await verifyToken(prisma, malformed), { refusal: 'malformed' }, `malformed: '${malformed}'`);
  }
  assert.equal(teamOf(await verifyToken(prisma, token))?.id, team.id);
  assert.deepEqual(await verifyToken(prisma, token.slice(0, -1) + last), { refusal: 'refused' }, 'wrong secret, right prefix, after the right one verified');

  await prisma.apiToken.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1) } });
  assert.deepEqual(await verifyToken(prisma, token), { refusal: 'refused' }, 'expired, though it verified a moment ago');
  await prisma.apiToken.update({ where: { id }, data: { expiresAt: null, revokedAt: new Date() } });
  assert.deepEqual(await verifyToken(prisma, token), { refusal: 'refused' }, 'revoked');
});

test('a token of the scrypt era is refused with its own reason; the migration revoked such rows', async () => {
  const team = await prisma.team.create({ data: { name: 'delta' } });
  const old = await prisma.apiToken.create({
    data: { teamId: team.id, prefix: 'abcdefabcdef', label: 'old', secretHash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==' },
  });
  assert.deepEqual(await verifyToken(prisma, `isa_abcdefabcdef_${'x'.repeat(43)}`), { refusal: 'scrypt' });
  const migration = readFileSync(join(ROOT, 'prisma/migrations/20261210120000_bounded_requests/migration.sql'), 'utf8');
  const revoke = migration.split('\n').find((line) => line.startsWith('UPDATE "api_tokens"'))!;
  await prisma.$executeRawUnsafe(revoke);
  assert.ok((await prisma.apiToken.findUniqueOrThrow({ where: { id: old.id } })).revokedAt instanceof Date);
});

test('a refused token writes nothing: no row changes (xmin), whatever is wrong with it', async () => {
  const team = await prisma.team.create({ data: { name: 'epsilon' } });
  const { token } = await createToken(prisma, team.id, 'kept');
  await verifyToken(prisma, token);
  const versions = () =>
    prisma.$queryRaw<{ v: string }[]>`SELECT string_agg(xmin::text || ':' || coalesce(last_used_at::text, ''), ',' ORDER BY id) AS v FROM api_tokens`;
  const before = await versions();
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  for (let i = 0; i < 20; i++)
    assert.ok('refusal' in (await verifyToken(prisma, i % 2 ? token.slice(0, -1) + last : `isa_${String(i).padStart(12, '0')}_${'y'.repeat(43)}`)));
  assert.deepEqual(await versions(), before);
});

test(`a team holds at most ${MAX_LIVE_TOKENS_PER_TEAM} live tokens`, async () => {
  const team = await prisma.team.create({ data: { name: 'zeta' } });
  await prisma.apiToken.createMany({
    data: Array.from({ length: MAX_LIVE_TOKENS_PER_TEAM }, (_, i) => ({
      teamId: team.id,
      prefix: `ee${String(i).padStart(10, '0')}`,
      label: 'bulk',
      secretHash: 'sha256$00',
    })),
  });
  await assert.rejects(createToken(prisma, team.id, 'one too many'), TokenLimitError);
  await prisma.apiToken.updateMany({ where: { teamId: team.id, prefix: 'ee0000000000' }, data: { revokedAt: new Date() } });
  assert.ok((await createToken(prisma, team.id, 'room again')).token);
});

test('npm run token creates the team once and prints a token that verifies; lists and revokes', async () => {
  const env = { ...process.env, DATABASE_URL: databaseUrl };
  const first = await promisify(execFile)('npm', ['run', '--silent', 'token', '--', '--team', 'gamma', '--label', 'one'], { cwd: ROOT, env });
  // The script itself, without npm's start-up, for the other runs.
  const script = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { cwd: ROOT, env });
  const second = await script('create', '--team', 'gamma', '--expires-in-days', '7');
  const tokens = [first.stdout.trim(), second.stdout.trim()];
  assert.match(first.stderr, /API token for team 'gamma' \(label 'one', prefix [0-9a-f]{12}, expires \d{4}-\d\d-\d\dT[\d:]+Z\)\. It is shown only now/);
  assert.match(second.stderr, /\(label 'cli', prefix/);
  assert.equal(await prisma.team.count({ where: { name: 'gamma' } }), 1);
  for (const token of tokens) assert.equal(teamOf(await verifyToken(prisma, token))?.name, 'gamma');
  assert.notEqual(tokens[0], tokens[1]);

  const prefix = tokens[1].slice(4, 16);
  const listed = (await script('list', '--team', 'gamma')).stdout.trim().split('\n');
  assert.equal(listed.length, 3, listed.join('\n'));
  assert.ok(
    listed.some((line) => line.startsWith(`${prefix}\tcli\t`) && line.endsWith('\tlive')),
    listed.join('\n'),
  );
  assert.ok(!listed.join('\n').includes(tokens[1].slice(17)), 'no secret in the list');
  await script('revoke', '--team', 'gamma', '--prefix', prefix);
  assert.deepEqual(await verifyToken(prisma, tokens[1]), { refusal: 'refused' });
  assert.equal(teamOf(await verifyToken(prisma, tokens[0]))?.name, 'gamma');
  assert.match((await script('list', '--team', 'gamma')).stdout, new RegExp(`${prefix}\t.*\trevoked `));

  const failure = (...args: string[]) =>
    script(...args).then(
      () => assert.fail(`token ${args.join(' ')} succeeded`),
      (err: { stderr: string }) => err.stderr,
    );
  assert.match(await failure(), /--team is required \(usage: npm run token -- \[create\] --team NAME/);
  assert.match(await failure('--team', 'gamma', '--expires-in-days', '0'), /a token lives at least 1 day/);
  assert.match(await failure('revoke', '--team', 'gamma', '--prefix', '000000000000'), /team 'gamma' has no token with prefix 000000000000/);
});
