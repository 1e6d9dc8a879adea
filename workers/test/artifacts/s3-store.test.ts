/**
 * S3ArtifactStore against an in-process S3 double that checks every request's SigV4 signature
 * (test/support/s3-double.ts); there is no real S3 service here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { artifactStoreConfigFromEnv, createArtifactStore, type ArtifactStoreConfig } from '../../src/artifacts/config.ts';
import { S3ArtifactStore, S3RequestError, type S3StoreConfig } from '../../src/artifacts/s3-store.ts';
import { ArtifactNotFoundError } from '../../src/artifacts/store.ts';
import { CliError } from '../../src/cli/command.ts';
import { uploadCommand } from '../../src/cli/commands/upload.ts';
import { writePng } from '../../src/image/png.ts';
import { startS3Double, type S3Double } from '../support/s3-double.ts';
import { artifactStoreContract } from './store-contract.ts';

const CREDENTIALS = { accessKeyId: 'TESTACCESSKEY', secretAccessKey: 'test-secret/+KEY0123456789' };

describe('the S3 artifact store', () => {
  let double: S3Double;
  let config: S3StoreConfig;
  let store: S3ArtifactStore;
  before(async () => {
    // Two keys a page: every listing of more than two keys takes several requests.
    double = await startS3Double({ bucket: 'arena', region: 'eu-central-1', ...CREDENTIALS, pageSize: 2 });
    config = { endpoint: double.endpoint, bucket: 'arena', region: 'eu-central-1', prefix: 'infsplign/test', ...CREDENTIALS };
    store = new S3ArtifactStore(config);
  });
  after(() => double.close());

  artifactStoreContract(() => ({ store, requestCount: () => double.requests.length }));

  test('objects lie under the store prefix in the bucket; the description names endpoint, bucket and prefix only', async () => {
    await store.put('where/a.png', new Uint8Array([1]));
    assert.deepEqual(double.objects.get('infsplign/test/where/a.png'), Buffer.from([1]));
    assert.equal(store.description, `s3:${double.endpoint}/arena/infsplign/test`);
    assert.equal(createArtifactStore({ kind: 's3', ...config, prefix: undefined }).description, `s3:${double.endpoint}/arena`);
  });

  test('a listing past one page follows the continuation tokens', async () => {
    for (const i of [0, 1, 2, 3, 4]) await store.put(`paged/${i}.png`, new Uint8Array([i]));
    const start = double.requests.length;
    assert.deepEqual(await store.list('paged'), ['paged/0.png', 'paged/1.png', 'paged/2.png', 'paged/3.png', 'paged/4.png']);
    const listings = double.requests.slice(start);
    assert.equal(listings.length, 3, 'three pages of at most two keys');
    assert.ok(
      listings.slice(1).every((r) => r.includes('continuation-token=')),
      listings.join('\n'),
    );
  });

  test('delete sends DeleteObjects in batches of at most 1000 keys', async () => {
    double.pageSize = 1000;
    try {
      for (let i = 0; i < 1500; i++) double.objects.set(`infsplign/test/bulk/${i}_0.png`, Buffer.from([1]));
      const start = double.requests.length;
      assert.equal(await store.delete('bulk'), 1500);
      assert.equal(double.requests.slice(start).filter((r) => r.startsWith('POST ') && r.includes('delete')).length, 2);
      assert.deepEqual(await store.list('bulk'), []);
    } finally {
      double.pageSize = 2;
    }
  });

  test('objects under the prefix that are no artifact keys are not listed, but are deleted with it', async () => {
    double.objects.set('infsplign/test/odd/.tmp', Buffer.from([1]));
    double.objects.set('infsplign/test/odd/a b.png', Buffer.from([1]));
    await store.put('odd/ok.png', new Uint8Array([1]));
    assert.deepEqual(await store.list('odd'), ['odd/ok.png']);
    assert.equal(await store.delete('odd'), 3);
    assert.equal(
      [...double.objects.keys()].some((k) => k.startsWith('infsplign/test/odd/')),
      false,
    );
  });

  test('a store prefix with spaces, unicode, + and & survives the URI and XML encoding', async () => {
    const odd = new S3ArtifactStore({ ...config, prefix: 'data sets/ü+€ & <co>/1' });
    await odd.put('runs/r1/0_0.png', new Uint8Array([5, 6]));
    await odd.put('runs/r1/0_1.png', new Uint8Array([7]));
    assert.deepEqual(double.objects.get('data sets/ü+€ & <co>/1/runs/r1/0_0.png'), Buffer.from([5, 6]));
    assert.deepEqual([...(await odd.get('runs/r1/0_0.png'))], [5, 6]);
    assert.equal(await odd.exists('runs/r1/0_1.png'), true);
    assert.deepEqual(await odd.list('runs'), ['runs/r1/0_0.png', 'runs/r1/0_1.png']);
    assert.equal(await odd.delete('runs'), 2);
    assert.deepEqual(await odd.list('runs'), []);
  });

  test('a wrong secret: 403 SignatureDoesNotMatch, and no secret in the message', async () => {
    const wrong = new S3ArtifactStore({ ...config, secretAccessKey: 'not-the-secret-KEY' });
    for (const attempt of [() => wrong.put('x/a.png', new Uint8Array([1])), () => wrong.get('x/a.png'), () => wrong.list('x')]) {
      await assert.rejects(attempt(), (err: unknown) => {
        assert.ok(err instanceof S3RequestError, String(err));
        assert.equal(err.status, 403);
        assert.equal(err.code, 'SignatureDoesNotMatch');
        assert.match(err.message, /^S3 (PutObject|GetObject|ListObjectsV2) x(\/a\.png)?: HTTP 403 SignatureDoesNotMatch: /);
        for (const secret of ['not-the-secret-KEY', CREDENTIALS.secretAccessKey, 'Signature=', 'AWS4-HMAC-SHA256'])
          assert.ok(!err.message.includes(secret), err.message);
        return true;
      });
    }
    // HEAD answers carry no body: the status still tells.
    await assert.rejects(wrong.exists('x/a.png'), /S3 HeadObject x\/a\.png: HTTP 403 Forbidden$/);
  });

  test("without static credentials the SDK's default chain finds them: here a profile of the shared credentials file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 's3-profile-'));
    const saved = { ...process.env };
    writeFileSync(
      join(dir, 'credentials'),
      `[arena-test]\naws_access_key_id = ${CREDENTIALS.accessKeyId}\naws_secret_access_key = ${CREDENTIALS.secretAccessKey}\n[arena-wrong]\naws_access_key_id = ${CREDENTIALS.accessKeyId}\naws_secret_access_key = not-the-secret\n`,
    );
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[name];
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config'), AWS_PROFILE: 'arena-test' });
    try {
      const { accessKeyId: _id, secretAccessKey: _secret, ...withoutCredentials } = config;
      const chained = new S3ArtifactStore(withoutCredentials);
      await chained.put('chain/a.png', new Uint8Array([9]));
      assert.deepEqual([...(await chained.get('chain/a.png'))], [9]);
      // The signature the double checks was made with the profile's secret: another profile's is refused.
      process.env.AWS_PROFILE = 'arena-wrong';
      await assert.rejects(
        new S3ArtifactStore(withoutCredentials).get('chain/a.png'),
        (err: unknown) => err instanceof S3RequestError && err.code === 'SignatureDoesNotMatch',
      );
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the double checks the body checksum the SDK sends: a body changed after it was computed (and then signed) is refused', async () => {
    const client = new S3Client({ endpoint: double.endpoint, region: 'eu-central-1', forcePathStyle: true, credentials: CREDENTIALS, maxAttempts: 1 });
    type Middleware = Parameters<typeof client.middlewareStack.addRelativeTo>[0];
    const changeTheBody = (next: (args: { request: { body: unknown } }) => Promise<unknown>) => (args: { request: { body: unknown } }) => {
      args.request.body = new Uint8Array([1, 2, 4]);
      return next(args);
    };
    client.middlewareStack.addRelativeTo(changeTheBody as unknown as Middleware, {
      relation: 'before',
      toMiddleware: 'httpSigningMiddleware',
      name: 'changeTheBody',
    });
    try {
      await assert.rejects(
        client.send(new PutObjectCommand({ Bucket: 'arena', Key: 'checksum/a.bin', Body: new Uint8Array([1, 2, 3]) })),
        (err: Error) => err.name === 'BadDigest',
      );
      assert.equal(double.objects.has('checksum/a.bin'), false);
    } finally {
      client.destroy();
    }
  });

  test('a missing bucket is an error, not a missing artifact', async () => {
    const nowhere = new S3ArtifactStore({ ...config, bucket: 'no-such-bucket' });
    await assert.rejects(
      nowhere.get('a.png'),
      (err: unknown) => err instanceof S3RequestError && !(err instanceof ArtifactNotFoundError) && err.code === 'NoSuchBucket' && err.status === 404,
    );
    await assert.rejects(nowhere.list('a'), /ListObjectsV2 a: HTTP 404 NoSuchBucket/);
  });

  test('a service that does not answer: the error names the operation, key and endpoint', async () => {
    const gone = await startS3Double({ bucket: 'arena', region: 'eu-central-1', ...CREDENTIALS });
    await gone.close();
    const unreachable = new S3ArtifactStore({ ...config, endpoint: gone.endpoint });
    await assert.rejects(
      unreachable.get('a.png'),
      (err: unknown) =>
        err instanceof S3RequestError && err.status === undefined && err.message.startsWith(`S3 GetObject a.png: ${gone.endpoint} did not answer`),
    );
  });

  test('infsplign upload puts into the bucket that ARTIFACT_STORE names', async () => {
    const images = mkdtempSync(join(tmpdir(), 's3-upload-'));
    const saved = { ...process.env };
    Object.assign(process.env, {
      ARTIFACT_STORE: 's3://arena/uploaded',
      S3_ENDPOINT: double.endpoint,
      S3_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    });
    const printed = mock.method(console, 'log', () => {});
    try {
      writePng(join(images, '3_0.png'), { width: 1, height: 1, data: new Float32Array([0, 1, 0]) });
      await uploadCommand.run([images, '--prefix', 'sets/s3']);
      assert.deepEqual(
        printed.mock.calls.map((c) => c.arguments.join(' ')),
        ['sets/s3', `1 images uploaded to s3:${double.endpoint}/arena/uploaded`],
      );
      assert.deepEqual(double.objects.get('uploaded/sets/s3/3_0.png'), readFileSync(join(images, '3_0.png')));
      delete process.env.AWS_SECRET_ACCESS_KEY;
      await assert.rejects(
        uploadCommand.run([images, '--prefix', 'sets/s4']),
        (err: Error) => err instanceof CliError && err.exitCode === 2 && /AWS_SECRET_ACCESS_KEY: must be set/.test(err.message),
      );
    } finally {
      printed.mock.restore();
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      rmSync(images, { recursive: true, force: true });
    }
  });

  test('a bad config is refused when the store is made', () => {
    assert.throws(() => new S3ArtifactStore({ ...config, endpoint: 'ftp://example.com' }), /S3 endpoint: must be an http/);
    assert.throws(
      () => new S3ArtifactStore({ ...config, endpoint: 'http://user:pw@example.com' }),
      (err: Error) => /must not hold credentials/.test(err.message) && !err.message.includes('pw'),
    );
    assert.throws(() => new S3ArtifactStore({ ...config, prefix: 'a/../b' }), /invalid key prefix/);
    assert.throws(() => new S3ArtifactStore({ ...config, bucket: 'a/b' }), /invalid bucket name/);
  });
});

describe('the artifact store from the environment', () => {
  const S3_ENV = {
    ARTIFACT_STORE: 's3://arena/infsplign/prod',
    S3_ENDPOINT: 'http://127.0.0.1:9000',
    AWS_ACCESS_KEY_ID: 'AK',
    AWS_SECRET_ACCESS_KEY: 'SECRET-VALUE',
  };

  test('without ARTIFACT_STORE: the local directory ARTIFACT_DIR', () => {
    assert.deepEqual(artifactStoreConfigFromEnv({ ARTIFACT_DIR: '/srv/artifacts' }), { kind: 'local', dir: '/srv/artifacts' });
    assert.equal(artifactStoreConfigFromEnv({ ARTIFACT_STORE: '' }).kind, 'local');
  });

  test('s3://BUCKET/PREFIX with the S3 variables; the region defaults to us-east-1, or to an AWS endpoint`s', () => {
    const config: ArtifactStoreConfig = artifactStoreConfigFromEnv({ ...S3_ENV, ARTIFACT_DIR: '/ignored' });
    assert.deepEqual(config, {
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'arena',
      prefix: 'infsplign/prod',
      region: 'us-east-1',
      accessKeyId: 'AK',
      secretAccessKey: 'SECRET-VALUE',
    });
    assert.equal(createArtifactStore(config).description, 's3:http://127.0.0.1:9000/arena/infsplign/prod');
    const aws = artifactStoreConfigFromEnv({
      ...S3_ENV,
      ARTIFACT_STORE: 's3://arena/',
      S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_SESSION_TOKEN: 'tok',
    });
    assert.deepEqual(aws, {
      kind: 's3',
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      bucket: 'arena',
      region: 'eu-west-1',
      accessKeyId: 'AK',
      secretAccessKey: 'SECRET-VALUE',
      sessionToken: 'tok',
      forcePathStyle: true,
    });
    // Neither key: no credentials in the config, for the SDK's default chain.
    assert.deepEqual(artifactStoreConfigFromEnv({ ...S3_ENV, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: '' }), {
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'arena',
      prefix: 'infsplign/prod',
      region: 'us-east-1',
    });
    const explicit = artifactStoreConfigFromEnv({ ...S3_ENV, S3_REGION: 'ap-south-1', S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' });
    assert.equal(explicit.kind === 's3' && explicit.region, 'ap-south-1');
  });

  test('a missing or wrong variable is an error that names it and never shows the secret', () => {
    assert.throws(() => artifactStoreConfigFromEnv({ ...S3_ENV, S3_ENDPOINT: undefined }), /: S3_ENDPOINT: must be set when ARTIFACT_STORE is s3:\/\//);
    assert.throws(() => artifactStoreConfigFromEnv({ ...S3_ENV, S3_ENDPOINT: '' }), /: S3_ENDPOINT: must be set/);
    for (const [name, other] of [
      ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
      ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'],
    ] as const) {
      assert.throws(() => artifactStoreConfigFromEnv({ ...S3_ENV, [name]: undefined }), new RegExp(`: ${name}: must be set when ${other} is`));
      assert.throws(() => artifactStoreConfigFromEnv({ ...S3_ENV, [name]: '' }), new RegExp(`: ${name}: must be set`));
    }
    assert.throws(
      () => artifactStoreConfigFromEnv({ ...S3_ENV, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: 'tok' }),
      /: AWS_SESSION_TOKEN: goes with/,
    );
    assert.throws(() => artifactStoreConfigFromEnv({ ...S3_ENV, ARTIFACT_STORE: 'minio://arena' }), /: ARTIFACT_STORE: expected s3:\/\/BUCKET/);
    assert.throws(() => artifactStoreConfigFromEnv({ ...S3_ENV, ARTIFACT_STORE: 's3://arena/a//b' }), /: ARTIFACT_STORE: invalid key prefix/);
    assert.throws(() => artifactStoreConfigFromEnv({ ...S3_ENV, S3_ENDPOINT: 'not a url' }), /: S3_ENDPOINT: not a URL/);
    assert.throws(() => artifactStoreConfigFromEnv({ ...S3_ENV, S3_FORCE_PATH_STYLE: 'yes' }), /: S3_FORCE_PATH_STYLE: /);
    assert.throws(
      () => artifactStoreConfigFromEnv({ ...S3_ENV, S3_ENDPOINT: undefined, AWS_SECRET_ACCESS_KEY: 'SECRET-VALUE' }),
      (err: Error) => !err.message.includes('SECRET-VALUE'),
    );
  });
});
