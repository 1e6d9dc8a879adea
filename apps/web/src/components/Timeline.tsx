import { formatDate } from '@/lib/format';

export interface RunEvent {
  status: string;
  at: string;
  reason: string | null;
}

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
