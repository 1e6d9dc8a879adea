/**
 * Picking attention layers by name pattern (docs/method.md §4 `layers`). Names are module paths with
 * dots, as docs/method.md writes them (`up_blocks.1.attentions.0.transformer_blocks.0.attn2`); an
 * exported graph's scopes (`/up_blocks.1/attentions.0/...`) are read the same way. A pattern is a
 * glob (`*` within one segment, `{0,1,2}` alternatives) or a `/regex/`, and may match the whole
 * path or a trailing part of it that starts at a segment (exporters sometimes add a scope on top).
 */
export function dottedPath(blockPath: string): string {
  return blockPath.replace(/^\/+/, '').replace(/\//g, '.');
}

function patternRegex(pattern: string): RegExp {
  const regex = /^\/(.*)\/([a-z]*)$/.exec(pattern);
  if (regex) return new RegExp(regex[1]!, regex[2]);
  const body = pattern
    .split(/(\*|\{[^}]*\})/)
    .map((part) => {
      if (part === '*') return '[^.]*';
      if (part.startsWith('{') && part.endsWith('}')) return `(?:${part.slice(1, -1).split(',').map(escape).join('|')})`;
      return escape(part);
    })
    .join('');
  return new RegExp(`(?:^|\\.)${body}$`);
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

export function matchesLayer(blockPath: string, patterns: readonly string[]): boolean {
  const path = dottedPath(blockPath);
  return patterns.some((p) => patternRegex(p).test(path));
}
