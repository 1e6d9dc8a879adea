export const TERMINAL_STATUSES = ['FINISHED', 'FAILED', 'CANCELLED'] as const;

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}
