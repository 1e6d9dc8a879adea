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

  test('bad lists are refused with the entry named', () => {
    assert.throws(() => parseConfigList('baseline,,infsplign'), /has an empty entry/);
    assert.throws(() => parseConfigList('baseline,baseline'), /names 'baseline' twice/);
    assert.throws(() => parseConfigList('guided'), /'guided' is neither baseline, infsplign nor NAME=/);
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
