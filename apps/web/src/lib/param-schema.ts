/**
 * The method parameter form, read from the JSON Schema the API publishes per method (zod's
 * toJSONSchema of the one parameter definition, workers/src/contracts/method-params.ts), so a new
 * parameter appears without a web change: its input from its type (enums, booleans, numbers with their
 * bounds, lists of strings, fixed-length lists of numbers, anything else as JSON), its description, and
 * the checks the browser can make before the API makes them all. `x-order` (a number) marks the
 * parameters that matter most, shown first in that order; the others are advanced, in name order.
 * `x-alias` (true) marks another name for a parameter, accepted but never stored: the form leaves it out.
 */
export interface JsonSchema {
  type?: string;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  'x-order'?: number;
  'x-alias'?: boolean;
}

interface FieldCommon {
  name: string;
  description?: string;
  /** shown first, in `order`; absent: advanced */
  order?: number;
}

/** A number's bounds (inclusive, or exclusive when so flagged), and whether it must be whole. */
export interface NumberRule {
  integer: boolean;
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

export type ParamField = FieldCommon &
  (
    | ({ kind: 'number' } & NumberRule)
    | { kind: 'choice'; options: string[] }
    | { kind: 'boolean' }
    | { kind: 'lines'; minItems?: number; maxItems?: number; maxLength?: number }
    | { kind: 'numbers'; items: NumberRule[] }
    | { kind: 'json' }
  );

function numberRule(p: JsonSchema): NumberRule | null {
  if (p.type !== 'number' && p.type !== 'integer') return null;
  const rule: NumberRule = { integer: p.type === 'integer' };
  if (p.minimum !== undefined) rule.min = p.minimum;
  if (p.maximum !== undefined) rule.max = p.maximum;
  if (p.exclusiveMinimum !== undefined) Object.assign(rule, { min: p.exclusiveMinimum, exclusiveMin: true });
  if (p.exclusiveMaximum !== undefined) Object.assign(rule, { max: p.exclusiveMaximum, exclusiveMax: true });
  return rule;
}

function fieldOf(name: string, p: JsonSchema): ParamField {
  const common: FieldCommon = { name, ...(p.description && { description: p.description }), ...(typeof p['x-order'] === 'number' && { order: p['x-order'] }) };
  if (p.enum) return { ...common, kind: 'choice', options: p.enum.map(String) };
  const number = numberRule(p);
  if (number) return { ...common, kind: 'number', ...number };
  if (p.type === 'boolean') return { ...common, kind: 'boolean' };
  if (p.type === 'array' && !p.prefixItems && p.items && p.items.type === 'string') {
    return { ...common, kind: 'lines', minItems: p.minItems, maxItems: p.maxItems, maxLength: p.items.maxLength };
  }
  const items = p.type === 'array' && p.prefixItems && p.items === false ? p.prefixItems.map(numberRule) : null;
  if (items && items.every((r): r is NumberRule => r !== null)) return { ...common, kind: 'numbers', items };
  return { ...common, kind: 'json' };
}

/** The parameters that matter first (by `x-order`), then the rest by name (PostgreSQL's jsonb does not keep the definition's order); no alias. */
export function paramFields(schema: JsonSchema): ParamField[] {
  const fields = Object.entries(schema.properties ?? {})
    .filter(([, p]) => p['x-alias'] !== true)
    .map(([name, p]) => fieldOf(name, p));
  return fields.sort((a, b) => (a.order ?? Infinity) - (b.order ?? Infinity) || a.name.localeCompare(b.name));
}

export const isMain = (field: ParamField) => field.order !== undefined;

/** The bounds in words: `1 to 1000, whole`, `at least 0`, `above 0`; empty when unbounded. */
export function describeRule(rule: NumberRule): string {
  const low = rule.min === undefined ? null : `${rule.exclusiveMin ? 'above' : 'at least'} ${rule.min}`;
  const high = rule.max === undefined ? null : `${rule.exclusiveMax ? 'below' : 'at most'} ${rule.max}`;
  const range = low && high && !rule.exclusiveMin && !rule.exclusiveMax ? `${rule.min} to ${rule.max}` : [low, high].filter(Boolean).join(', ');
  return [range, rule.integer ? 'whole' : ''].filter(Boolean).join(', ');
}

/** What a field accepts, in words, for the line under it. */
export function describeField(field: ParamField): string {
  switch (field.kind) {
    case 'number':
      return describeRule(field);
    case 'choice':
      return `one of ${field.options.join(', ')}`;
    case 'lines':
      return [
        'one per line',
        field.minItems ? `at least ${field.minItems}` : '',
        field.maxItems ? `at most ${field.maxItems}` : '',
        field.maxLength ? `each at most ${field.maxLength} characters` : '',
      ]
        .filter(Boolean)
        .join(', ');
    case 'numbers':
      return `${field.items.length} numbers: ${field.items.map((r, i) => `${i + 1}. ${describeRule(r) || 'any'}`).join('; ')}`;
    case 'boolean':
    case 'json':
      return '';
  }
}

/** Why a number breaks its rule, or null when it keeps it. */
export function numberProblem(rule: NumberRule, value: number): string | null {
  if (!Number.isFinite(value)) return 'enter a number';
  if (rule.integer && !Number.isInteger(value)) return 'enter a whole number';
  if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min))
    return `must be ${rule.exclusiveMin ? 'above' : 'at least'} ${rule.min}`;
  if (rule.max !== undefined && (rule.exclusiveMax ? value >= rule.max : value > rule.max))
    return `must be ${rule.exclusiveMax ? 'below' : 'at most'} ${rule.max}`;
  return null;
}

/** A field's value as the form shows it. */
export function toText(field: ParamField, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (field.kind === 'lines') return (value as string[]).join('\n');
  if (field.kind === 'numbers') return (value as number[]).join(', ');
  if (field.kind === 'json') return JSON.stringify(value);
  return String(value);
}

/** The form's text back to a value that keeps the schema's rules, or the message to show beside the field. */
export function fromText(field: ParamField, text: string): { value: unknown } | { error: string } {
  const trimmed = text.trim();
  switch (field.kind) {
    case 'number': {
      const value = trimmed === '' ? NaN : Number(trimmed);
      const problem = numberProblem(field, value);
      return problem ? { error: problem } : { value };
    }
    case 'boolean':
      return { value: trimmed === 'true' };
    case 'choice':
      return field.options.includes(trimmed) ? { value: trimmed } : { error: `choose one of ${field.options.join(', ')}` };
    case 'lines': {
      const lines = trimmed
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      if (field.minItems !== undefined && lines.length < field.minItems) return { error: `enter at least ${field.minItems}, one per line` };
      if (field.maxItems !== undefined && lines.length > field.maxItems) return { error: `enter at most ${field.maxItems} lines` };
      const long = field.maxLength === undefined ? -1 : lines.findIndex((l) => l.length > field.maxLength!);
      if (long >= 0) return { error: `line ${long + 1} is over ${field.maxLength} characters` };
      return { value: lines };
    }
    case 'numbers': {
      const parts = trimmed
        .replace(/^\[|\]$/g, '')
        .split(/[\s,]+/)
        .filter(Boolean);
      if (parts.length !== field.items.length)
        return { error: `enter ${field.items.length} numbers, for example ${field.items.map((r) => r.min ?? 0).join(', ')}` };
      const values = parts.map(Number);
      for (const [i, rule] of field.items.entries()) {
        const problem = numberProblem(rule, values[i]!);
        if (problem) return { error: `number ${i + 1}: ${problem}` };
      }
      return { value: values };
    }
    case 'json':
      try {
        return { value: JSON.parse(trimmed) };
      } catch {
        return { error: 'enter JSON' };
      }
  }
}

/** The most runs one sweep submission makes. */
export const MAX_SWEEP_VALUES = 12;

/** Parameters a sweep can vary: one value each from a comma-separated list. */
export const sweepable = (field: ParamField) => field.kind === 'number' || field.kind === 'choice' || field.kind === 'boolean';

/** A sweep's values, each checked as the field checks one (`30, 60, 90`), or what is wrong with them. */
export function sweepValues(field: ParamField, text: string): { values: unknown[] } | { error: string } {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length < 2) return { error: 'enter two values or more, separated by commas' };
  if (parts.length > MAX_SWEEP_VALUES) return { error: `at most ${MAX_SWEEP_VALUES} values` };
  if (new Set(parts).size !== parts.length) return { error: 'each value once' };
  const values: unknown[] = [];
  for (const part of parts) {
    const parsed = fromText(field, part);
    if ('error' in parsed) return { error: `${part}: ${parsed.error}` };
    values.push(parsed.value);
  }
  return { values };
}
