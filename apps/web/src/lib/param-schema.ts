/**
 * The method parameter form, read from the JSON Schema the API publishes per method (zod's
 * toJSONSchema of the one parameter definition), so a new parameter appears without a web change.
 */
export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
}

export type ParamField =
  | { name: string; kind: 'number'; integer: boolean; min?: number; max?: number }
  | { name: string; kind: 'choice'; options: string[] }
  | { name: string; kind: 'boolean' }
  | { name: string; kind: 'lines' }
  | { name: string; kind: 'json' };

/** In name order: the stored schema (PostgreSQL jsonb) does not keep the definition's order. */
export function paramFields(schema: JsonSchema): ParamField[] {
  const properties = Object.entries(schema.properties ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return properties.map(([name, p]): ParamField => {
    if (p.enum) return { name, kind: 'choice', options: p.enum.map(String) };
    if (p.type === 'number' || p.type === 'integer') return { name, kind: 'number', integer: p.type === 'integer', min: p.minimum, max: p.maximum };
    if (p.type === 'boolean') return { name, kind: 'boolean' };
    if (p.type === 'array' && !p.prefixItems && p.items && p.items.type === 'string') return { name, kind: 'lines' };
    return { name, kind: 'json' };
  });
}

/** A field's value as the form shows it. */
export function toText(field: ParamField, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (field.kind === 'lines') return (value as string[]).join('\n');
  if (field.kind === 'json') return JSON.stringify(value);
  return String(value);
}

/** The form's text back to a value, or the message to show beside the field. */
export function fromText(field: ParamField, text: string): { value: unknown } | { error: string } {
  const trimmed = text.trim();
  switch (field.kind) {
    case 'number': {
      const value = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(value)) return { error: 'enter a number' };
      if (field.integer && !Number.isInteger(value)) return { error: 'enter a whole number' };
      return { value };
    }
    case 'boolean':
      return { value: trimmed === 'true' };
    case 'lines':
      return { value: trimmed.split('\n').map((l) => l.trim()).filter(Boolean) };
    case 'json':
      try {
        return { value: JSON.parse(trimmed) };
      } catch {
        return { error: 'enter JSON, for example [0, 20]' };
      }
    case 'choice':
      return { value: trimmed };
  }
}
