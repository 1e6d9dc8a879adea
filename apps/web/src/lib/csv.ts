/** CSV as the exports write it: one header line, RFC 4180 quoting of cells with commas, quotes or line breaks. */
export function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header.join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\n') + '\n';
}

/** Records with the same keys as CSV, the first record's keys as the header. */
export function recordsCsv(records: readonly Record<string, unknown>[], header: readonly string[] = Object.keys(records[0] ?? {})): string {
  return toCsv(
    header,
    records.map((r) => header.map((key) => r[key])),
  );
}

/** A file download answer. */
export function download(body: string, filename: string, type: string): Response {
  return new Response(body, { headers: { 'content-type': `${type}; charset=utf-8`, 'content-disposition': `attachment; filename="${filename}"` } });
}
