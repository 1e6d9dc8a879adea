/**
 * Fails unless every query is one of a closed-set detector's labels: a detector that cannot see a
 * class must not answer "not found" for it, which would score as a silent zero.
 */
export function assertKnownLabels(detectorName: string, labels: readonly string[], queries: readonly string[]): void {
  const unknown = queries.find((query) => !labels.includes(query));
  if (unknown !== undefined) throw new Error(`'${unknown}' is not among this detector's labels (${detectorName} knows ${labels.join(', ')})`);
}
