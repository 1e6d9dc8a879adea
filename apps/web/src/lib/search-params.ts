/** Next hands search params as string | string[] | undefined; pages want one trimmed string or nothing. */
export type SearchParams = Record<string, string | string[] | undefined>;

export function param(params: SearchParams, name: string): string | undefined {
  const raw = params[name];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value ? value : undefined;
}

/** The current query with some values replaced (undefined removes one), as `?a=1&b=2`. */
export function withParams(params: SearchParams, changes: Record<string, string | undefined>): string {
  const next = new URLSearchParams();
  for (const [key, raw] of Object.entries(params)) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined && !(key in changes)) next.set(key, value);
  }
  for (const [key, value] of Object.entries(changes)) if (value !== undefined) next.set(key, value);
  const text = next.toString();
  return text ? `?${text}` : '?';
}
