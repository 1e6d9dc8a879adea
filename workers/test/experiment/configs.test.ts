import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultParams, resolveParams } from '../../src/contracts/method-params.ts';
import { ablationConfigs, parseConfigList } from '../../src/experiment/configs.ts';

describe('experiment --configs', () => {
  test('baseline and infsplign use the model defaults; NAME=@file and NAME={json} are InfSplign with overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'configs-'));
    writeFileSync(join(dir, 'strong.json'), '{"guidance_weight": 9, "alpha": 0.5}');
    const configs = parseConfigList(`baseline,infsplign,strong=@${join(dir, 'strong.json')},relu={"loss_type":"relu","margin":0.1}`);
    assert.deepEqual(configs, [
      { name: 'baseline', method: 'baseline', overrides: {} },
      { name: 'infsplign', method: 'infsplign', overrides: {} },
      { name: 'strong', method: 'infsplign', overrides: { guidance_weight: 9, alpha: 0.5 } },
      { name: 'relu', method: 'infsplign', overrides: { loss_type: 'relu', margin: 0.1 } },
    ]);
  });

  test('NAME=METHOD:{json} and NAME=METHOD:@file configure any registered method; a bare method name runs its defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'configs-'));
    writeFileSync(join(dir, 'ae.json'), '{"scale_factor": 10, "max_iter_to_alter": 25}');
    const configs = parseConfigList(
      `attend-and-excite,ae20=attend-and-excite:{"scale_factor":20,"thresholds":{"0":0.05,"10":0.5}},ae10=attend-and-excite:@${join(dir, 'ae.json')},w9=infsplign:{"guidance_weight":9},plain=baseline:{}`,
    );
    assert.deepEqual(configs, [
      { name: 'attend-and-excite', method: 'attend-and-excite', overrides: {} },
      { name: 'ae20', method: 'attend-and-excite', overrides: { scale_factor: 20, thresholds: { 0: 0.05, 10: 0.5 } } },
      { name: 'ae10', method: 'attend-and-excite', overrides: { scale_factor: 10, max_iter_to_alter: 25 } },
      { name: 'w9', method: 'infsplign', overrides: { guidance_weight: 9 } },
      { name: 'plain', method: 'baseline', overrides: {} },
    ]);
    assert.throws(() => parseConfigList('x=no-such-method:{"a":1}'), /configuration x: unknown method 'no-such-method' \(known: .*attend-and-excite.*\)/);
    assert.throws(() => parseConfigList('x=attend-and-excite:{"a":'), /configuration x is not valid JSON/);
    assert.throws(() => parseConfigList('x=attend-and-excite:[1]'), /configuration x must hold a JSON object/);
  });

  test('bad lists are refused with the entry named', () => {
    assert.throws(() => parseConfigList('baseline,,infsplign'), /has an empty entry/);
    assert.throws(() => parseConfigList('baseline,baseline'), /names 'baseline' twice/);
    assert.throws(() => parseConfigList('guided'), /'guided' is neither a method \(.*attend-and-excite.*\) nor NAME=METHOD:\{\.\.\.\}/);
    assert.throws(() => parseConfigList('../x={}'), /configuration name '..\/x' must be/);
    assert.throws(() => parseConfigList('x=@/no/such/file.json'), /configuration x: cannot read \/no\/such\/file.json \(ENOENT\)/);
    assert.throws(() => parseConfigList('x={"a":'), /configuration x is not valid JSON/);
    assert.throws(() => parseConfigList('x=[1,2]'), /must hold a JSON object/);
  });

  test('--ablation varies loss type, strategy and guidance weight one at a time, without repeating the defaults', () => {
    const defaults = resolveParams(defaultParams('sd1'), { guidance_weight: 4, loss_type: 'gelu', strategy: 'diff' });
    assert.deepEqual(
      ablationConfigs(defaults).map((c) => [c.name, c.overrides]),
      [
        ['loss_type=relu', { loss_type: 'relu' }],
        ['loss_type=sigmoid', { loss_type: 'sigmoid' }],
        ['strategy=dec', { strategy: 'dec' }],
        ['strategy=none', { strategy: 'none' }],
        ['guidance_weight=2', { guidance_weight: 2 }],
        ['guidance_weight=8', { guidance_weight: 8 }],
      ],
    );
  });
});
