/**
 * The leaderboard's hidden columns, kept in a cookie so that the server renders the page as the reader
 * left it. The cookie is read back through the list of columns the page offers: anything else in it is
 * ignored, so a forged or stale cookie can hide nothing but a real column.
 */
const MAX_AGE_SECONDS = 365 * 24 * 3600;

export function hiddenColumnsCookieName(board: string): string {
  return `infsplign-hidden-columns-${board}`;
}

export function hiddenColumnsCookie(board: string, hidden: readonly string[]): string {
  return `${hiddenColumnsCookieName(board)}=${encodeURIComponent(hidden.join(','))}; Path=/; Max-Age=${MAX_AGE_SECONDS}; SameSite=Lax`;
}

export function hiddenColumnsFrom(cookieValue: string | undefined, offered: readonly { key: string }[]): string[] {
  if (!cookieValue) return [];
  let decoded: string;
  try {
    decoded = decodeURIComponent(cookieValue);
  } catch {
    return [];
  }
  const wanted = new Set(decoded.split(','));
  return offered.map((c) => c.key).filter((key) => wanted.has(key));
}
