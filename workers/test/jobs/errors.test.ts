import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failureCategory } from '../../src/jobs/errors.ts';

test('failure reasons fall into a few categories, whatever their text', () => {
  assert.equal(failureCategory('ran past its limit of 1800 s', true), 'timeout');
  assert.equal(failureCategory('job stalled more than allowable limit', false), 'stalled');
  assert.equal(failureCategory('evaluate job r1.evaluate.0.0: images: Too small: expected array to have >=1 items', true), 'invalid_payload');
  assert.equal(failureCategory('image 0 of prompt p0: artifact sets/x/0_0.png not found', true), 'permanent');
  assert.equal(failureCategory('ENOENT: /nonexistent/detector.onnx', false), 'error');
  assert.equal(failureCategory('the evaluate job says so: ran past its limit of 1 s', false), 'error', 'only where the text starts');
});
