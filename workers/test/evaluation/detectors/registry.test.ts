/** Detectors as jobs name them: shapes, or a name in the worker's registry; never a path, and unknown names say nothing about files. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createRegisteredDetector, registeredDetectorSpec, UnknownDetectorError } from '../../../src/evaluation/detectors/registry.ts';

describe('registered detectors', () => {
  const repo = mkdtempSync(join(tmpdir(), 'detector-registry-'));
  const registry = join(repo, 'models', 'detectors.json');
  mkdirSync(join(repo, 'models'));
  writeFileSync(
    registry,
    JSON.stringify({ owl: 'owlvit:models/owlvit-base', yolo: 'coco:/opt/yolov8.onnx', plain: 'shapes', missing: 'coco:detectors/none.onnx' }),
  );
  after(() => rmSync(repo, { recursive: true, force: true }));

  test('shapes is built in; a registered name stands for its spec, relative paths from the folder holding models/', () => {
    assert.equal(registeredDetectorSpec('shapes', join(repo, 'no-such-registry.json')), 'shapes');
    assert.equal(registeredDetectorSpec('owl', registry), `owlvit:${join(repo, 'models/owlvit-base')}`);
    assert.equal(registeredDetectorSpec('yolo', registry), 'coco:/opt/yolov8.onnx');
    assert.equal(registeredDetectorSpec('plain', registry), 'shapes');
  });

  test('an unknown name is one error whatever it looks like: a path that exists and one that does not read alike', async () => {
    const problem = async (name: string) => {
      const err = await createRegisteredDetector(name, { threshold: 0.1 }, registry).then(
        () => assert.fail(`${name} was accepted`),
        (e: Error) => e,
      );
      assert.ok(err instanceof UnknownDetectorError, err.message);
      return err.message.replace(name, 'NAME');
    };
    const expected = "unknown detector 'NAME': not in this worker's detector registry (it has: shapes, owl, yolo, plain, missing)";
    assert.equal(await problem('coco:/etc/passwd'), expected);
    assert.equal(await problem('coco:/nonexistent/x'), expected);
    assert.equal(await problem('owlvit'), expected);
    assert.equal(await problem('toString'), expected);
  });

  test('a registered detector loads as its spec does; one whose files are missing on this worker says so', async () => {
    assert.equal((await createRegisteredDetector('plain', { threshold: 0.1 }, registry)).name, 'shapes');
    await assert.rejects(createRegisteredDetector('missing', { threshold: 0.1 }, registry), {
      message: `detector 'missing' is registered on this worker but could not be loaded: ${join(repo, 'detectors/none.onnx')}: no such model file or folder`,
    });
  });
});
