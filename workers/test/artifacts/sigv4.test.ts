/**
 * The signer against the worked examples of AWS's S3 API reference, "Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk (AWS Signature Version 4)"
 * (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html): bucket examplebucket,
 * access key AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, us-east-1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { amzDate, sha256Hex, signS3Request, uriEncode } from '../../src/artifacts/sigv4.ts';

const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const WHEN = new Date(Date.UTC(2013, 4, 24));
const HOST = 'examplebucket.s3.amazonaws.com';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SCOPE = 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';

describe('SigV4 signing: the AWS S3 reference examples', () => {
  test('GET Object: /test.txt with Range bytes=0-9', () => {
    const signed = signS3Request({ method: 'GET', path: '/test.txt', headers: { Host: HOST, Range: 'bytes=0-9' }, payloadHash: EMPTY_SHA256 }, CREDENTIALS, 'us-east-1', WHEN);
    assert.equal(
      signed.canonicalRequest,
      ['GET', '/test.txt', '', `host:${HOST}`, 'range:bytes=0-9', `x-amz-content-sha256:${EMPTY_SHA256}`, 'x-amz-date:20130524T000000Z', '', 'host;range;x-amz-content-sha256;x-amz-date', EMPTY_SHA256].join('\n'),
    );
    assert.equal(signed.stringToSign, 'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972');
    assert.equal(signed.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
    assert.equal(signed.headers.authorization, `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`);
  });

  test("PUT Object: /test$file.text with a body, a Date header and a storage class ('$' is encoded once)", () => {
    const body = Buffer.from('Welcome to Amazon S3.');
    assert.equal(sha256Hex(body), '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    const signed = signS3Request(
      { method: 'PUT', path: '/test$file.text', headers: { host: HOST, Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' }, payloadHash: sha256Hex(body) },
      CREDENTIALS,
      'us-east-1',
      WHEN,
    );
    assert.equal(signed.path, '/test%24file.text');
    assert.equal(signed.stringToSign.split('\n')[3], '9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d');
    assert.equal(signed.signature, '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
    assert.match(signed.headers.authorization!, /SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,/);
  });

  test('GET Bucket Lifecycle: a query parameter without a value', () => {
    const signed = signS3Request({ method: 'GET', path: '/', query: [['lifecycle', '']], headers: { host: HOST }, payloadHash: EMPTY_SHA256 }, CREDENTIALS, 'us-east-1', WHEN);
    assert.equal(signed.queryString, 'lifecycle=');
    assert.equal(signed.stringToSign.split('\n')[3], '9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca');
    assert.equal(signed.signature, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
  });

  test('GET Bucket (List Objects): query parameters sorted by name', () => {
    const signed = signS3Request({ method: 'GET', path: '/', query: [['prefix', 'J'], ['max-keys', '2']], headers: { host: HOST }, payloadHash: EMPTY_SHA256 }, CREDENTIALS, 'us-east-1', WHEN);
    assert.equal(signed.queryString, 'max-keys=2&prefix=J');
    assert.equal(signed.stringToSign.split('\n')[3], 'df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7');
    assert.equal(signed.signature, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });
});

describe('SigV4 encoding', () => {
  test('RFC 3986: unreserved characters stay, every other UTF-8 byte is %XX in upper case', () => {
    assert.equal(uriEncode('AZaz09-._~'), 'AZaz09-._~');
    assert.equal(uriEncode("a b+c/d=e&f?g#h%i*j!k'l(m)n"), 'a%20b%2Bc%2Fd%3De%26f%3Fg%23h%25i%2Aj%21k%27l%28m%29n');
    assert.equal(uriEncode('dir/ü €/😀', true), 'dir/%C3%BC%20%E2%82%AC/%F0%9F%98%80');
  });

  test('x-amz-date is the UTC time without separators or milliseconds; a session token is signed', () => {
    assert.equal(amzDate(new Date('2026-01-02T03:04:05.678Z')), '20260102T030405Z');
    const signed = signS3Request({ method: 'GET', path: '/', headers: { host: HOST }, payloadHash: EMPTY_SHA256 }, { ...CREDENTIALS, sessionToken: 'token' }, 'us-east-1', WHEN);
    assert.equal(signed.headers['x-amz-security-token'], 'token');
    assert.match(signed.headers.authorization!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
  });
});
