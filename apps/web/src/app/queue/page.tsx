import type { Metadata } from 'next';
import Link from 'next/link';
import { EmptyNotice, ErrorNotice } from '@/components/ErrorNotice';
import { graphql } from '@/gql';
import type { QueueQuery } from '@/gql/graphql';
import { load } from '@/lib/api';
import { formatDate, shortId } from '@/lib/format';

export const metadata: Metadata = { title: 'Queue' };

const QUEUE = graphql(`
  query Queue {
    queueHealth {
      queues {
        name
        waiting
        active
        failed
        delayed
        oldestWaitingSeconds
      }
      stuckRuns {
        reason
        run {
          id
          status
          method
          updatedAt
          model {
            name
          }
        }
      }
      failedRuns {
        reason
        run {
          id
          status
          method
          updatedAt
          model {
            name
          }
        }
      }
    }
  }
`);

type Problem = QueueQuery['queueHealth']['stuckRuns'][number];

function age(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function Problems({ title, problems, empty }: { title: string; problems: Problem[]; empty: string }) {
  return (
    <section>
      <h2>{title}</h2>
      {problems.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>run</th>
                <th>status</th>
                <th>method</th>
                <th>last change</th>
                <th>reason</th>
              </tr>
            </thead>
            <tbody>
              {problems.map((p) => (
                <tr key={p.run.id}>
                  <td>
                    <Link href={`/runs/${p.run.id}`}>{shortId(p.run.id)}</Link>
                  </td>
                  <td className={`status-${p.run.status}`}>{p.run.status}</td>
                  <td>
                    {p.run.method ?? 'uploaded'} {p.run.model ? `on ${p.run.model.name}` : ''}
                  </td>
                  <td>{formatDate(p.run.updatedAt)}</td>
                  <td style={{ whiteSpace: 'normal' }}>{p.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export default async function QueuePage() {
  const { data, error } = await load(QUEUE);
  if (error) {
    return (
      <>
        <h1>Queue</h1>
        <ErrorNotice error={error} title="Queue health cannot be read" />
      </>
    );
  }
  const health = data.queueHealth;
  const idle = health.queues.every((q) => q.waiting + q.active + q.delayed === 0);
  return (
    <>
      <h1>Queue</h1>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>queue</th>
              <th className="num">waiting</th>
              <th className="num">active</th>
              <th className="num">delayed</th>
              <th className="num">failed</th>
              <th className="num">oldest waiting</th>
            </tr>
          </thead>
          <tbody>
            {health.queues.map((q) => (
              <tr key={q.name} data-queue={q.name}>
                <th scope="row">{q.name}</th>
                <td className="num">{q.waiting}</td>
                <td className="num">{q.active}</td>
                <td className="num">{q.delayed}</td>
                <td className="num">{q.failed}</td>
                <td className="num">{age(q.oldestWaitingSeconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {idle && (
        <EmptyNotice>
          No job is waiting or running. Jobs that wait with no worker taking them mean no worker is up: start one with `npm run worker`.
        </EmptyNotice>
      )}
      <Problems title="Stuck runs" problems={health.stuckRuns} empty="No run is stuck." />
      <Problems title="Recently failed runs" problems={health.failedRuns} empty="No run has failed." />
    </>
  );
}
