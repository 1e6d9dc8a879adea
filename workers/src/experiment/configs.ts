/**
 * The configurations an experiment compares: `--configs baseline,infsplign[,METHOD][,NAME=METHOD:{json}|
 * NAME=METHOD:@params.json|NAME=@params.json|NAME={json}...]` and the `--ablation` set. Every
 * configuration starts from the model's own defaults for its method; a named one has its method's
 * parameters replaced key by key (checked against the method's schema when run); without `METHOD:`
 * it is InfSplign.
 */
import { readFileSync } from 'node:fs';
import type { MethodParams } from '../contracts/method-params.ts';
import { findMethod, methodNames } from '../methods/registry.ts';

export interface ExperimentConfig {
  /** Row label and folder name under --out. */
  name: string;
  /** a registered method's name */
  method: string;
  /** Replacements of the model's defaults. */
  overrides: Record<string, unknown>;
}

export class ConfigListError extends Error {}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

function readOverrides(name: string, source: string): Record<string, unknown> {
  const [text, where] = source.startsWith('@') ? [readFileOrFail(source.slice(1), name), source.slice(1)] : [source, `configuration ${name}`];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigListError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigListError(`${where} must hold a JSON object of method parameters`);
  return value as Record<string, unknown>;
}

function readFileOrFail(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigListError(`configuration ${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** `METHOD:{json}`, `METHOD:@file`, or InfSplign's `{json}` / `@file`. */
function methodAndOverrides(name: string, spec: string): Omit<ExperimentConfig, 'name'> {
  const colon = spec.match(/^([a-z][a-z0-9-]*):(.*)$/s);
  if (!colon) return { method: 'infsplign', overrides: readOverrides(name, spec) };
  const method = colon[1]!;
  if (!findMethod(method)) throw new ConfigListError(`--configs: configuration ${name}: unknown method '${method}' (known: ${methodNames().join(', ')})`);
  return { method, overrides: readOverrides(name, colon[2]!) };
}

/** Splits on commas outside braces, so that inline JSON may contain commas. */
function splitList(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '{' || ch === '[') depth++;
    if (ch === '}' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else current += ch;
  }
  items.push(current.trim());
  return items;
}

export function parseConfigList(text: string): ExperimentConfig[] {
  const configs: ExperimentConfig[] = [];
  for (const item of splitList(text)) {
    if (item === '') throw new ConfigListError(`--configs '${text}' has an empty entry`);
    let config: ExperimentConfig;
    if (findMethod(item)) config = { name: item, method: item, overrides: {} };
    else {
      const eq = item.indexOf('=');
      if (eq < 0)
        throw new ConfigListError(
          `--configs: '${item}' is neither a method (${methodNames().join(', ')}) nor NAME=METHOD:{...} / NAME=@params.json / NAME={...}`,
        );
      const name = item.slice(0, eq);
      if (!NAME_PATTERN.test(name)) throw new ConfigListError(`--configs: configuration name '${name}' must be letters, digits, '_', '.', '+' or '-'`);
      config = { name, ...methodAndOverrides(name, item.slice(eq + 1)) };
    }
    if (configs.some((c) => c.name === config.name)) throw new ConfigListError(`--configs names '${config.name}' twice`);
    configs.push(config);
  }
  return configs;
}

/**
 * `--ablation`: InfSplign with one parameter changed from the model's defaults: the loss activation
 * (gelu, relu, sigmoid), the energy strategy (diff, dec, none) and the guidance weight (half, the
 * default, double). Values equal to the default are the `infsplign` row itself and are not repeated.
 */
export function ablationConfigs(defaults: MethodParams): ExperimentConfig[] {
  const w = defaults.guidance_weight;
  const variations: [keyof MethodParams, unknown[]][] = [
    ['loss_type', ['gelu', 'relu', 'sigmoid']],
    ['strategy', ['diff', 'dec', 'none']],
    ['guidance_weight', [w / 2, w, w * 2]],
  ];
  return variations.flatMap(([key, values]) =>
    values.filter((value) => value !== defaults[key]).map((value) => ({ name: `${key}=${value}`, method: 'infsplign' as const, overrides: { [key]: value } })),
  );
}
