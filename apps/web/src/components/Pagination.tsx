import Link from 'next/link';
import { param, withParams, type SearchParams } from '@/lib/search-params';

/** First and next page links of a cursor-paged list, kept in the page's query as `after`. */
export function Pagination({ params, pageInfo, label }: { params: SearchParams; pageInfo: { hasNextPage: boolean; endCursor: string | null }; label: string }) {
  return (
    <nav className="pagination" aria-label={label}>
      {param(params, 'after') && <Link href={withParams(params, { after: undefined })}>First page</Link>}
      {pageInfo.hasNextPage && pageInfo.endCursor && <Link href={withParams(params, { after: pageInfo.endCursor })}>Next page</Link>}
    </nav>
  );
}
