import type { RunFieldsFragment } from '@/gql/graphql';
import { formatDate } from '@/lib/format';

type RunEvent = RunFieldsFragment['timeline'][number];

export function Timeline({ events }: { events: RunEvent[] }) {
  return (
    <ol className="timeline">
      {events.map((e, i) => (
        <li key={i}>
          <span className={`status-${e.status}`}>{e.status}</span> <span className="muted">{formatDate(e.at)}</span>
          {e.reason && <div>{e.reason}</div>}
        </li>
      ))}
    </ol>
  );
}
