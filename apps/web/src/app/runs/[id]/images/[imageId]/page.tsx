import type { Metadata } from 'next';
import Link from 'next/link';
import { BoxesToggle } from '@/components/BoxesToggle';
import { ErrorNotice } from '@/components/ErrorNotice';
import { ImageWithBoxes } from '@/components/ImageWithBoxes';
import { LineChart } from '@/components/LineChart';
import { load } from '@/lib/api';
import { shortId } from '@/lib/format';
import { IMAGE_FIELDS, type ImageNode } from '@/lib/run';

const IMAGE_PAGE = /* GraphQL */ `
  ${IMAGE_FIELDS}
  query ImagePage($id: ID!) {
    image(id: $id) { ...ImageFields runId guidance { step loss centroids } }
  }
`;

interface GuidanceStep {
  step: number;
  loss: number;
  centroids: number[][];
}

type Props = { params: Promise<{ id: string; imageId: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Image ${shortId((await params).imageId)}` };
}

function GuidanceTrace({ steps, objects }: { steps: GuidanceStep[]; objects: string[] }) {
  const [a = 'A', b = 'B'] = objects;
  const coordinate = (object: 0 | 1, axis: 0 | 1) => steps.map((s) => ({ x: s.step, y: s.centroids[object]?.[axis] ?? 0 }));
  return (
    <section aria-labelledby="guidance">
      <h2 id="guidance">Guidance over the denoising steps</h2>
      <div className="columns">
        <LineChart title="InfSplign loss per guided step" xLabel="step" yLabel="loss" series={[{ name: 'loss', colour: '#b3261e', points: steps.map((s) => ({ x: s.step, y: s.loss })) }]} />
        <LineChart
          title="Object centroids per guided step"
          xLabel="step"
          yLabel="centroid"
          series={[
            { name: `${a} x`, colour: '#1f5fbf', points: coordinate(0, 0) },
            { name: `${a} y`, colour: '#6f9fd8', points: coordinate(0, 1) },
            { name: `${b} x`, colour: '#1d7a3a', points: coordinate(1, 0) },
            { name: `${b} y`, colour: '#7bc48f', points: coordinate(1, 1) },
          ]}
        />
      </div>
    </section>
  );
}

export default async function ImagePage({ params }: Props) {
  const { id, imageId } = await params;
  const { data, error } = await load<{ image: (ImageNode & { runId: string; guidance: GuidanceStep[] | null }) | null }>(IMAGE_PAGE, { id: imageId });
  if (error) return <ErrorNotice error={error} title={`Image ${imageId} cannot be shown`} />;
  const image = data.image;
  if (!image || image.runId !== id) return <ErrorNotice error={new Error(`Run ${id} has no image ${imageId}.`)} title="Image not found" />;
  return (
    <>
      <p>
        <Link href={`/runs/${id}`}>← run {shortId(id)}</Link>
      </p>
      <h1>{image.prompt.text}</h1>
      <div className="columns">
        <BoxesToggle>
          <div style={{ maxWidth: 420 }}>
            <ImageWithBoxes url={image.url} width={image.width} height={image.height} detections={image.detections} alt={`${image.prompt.text} (image ${image.imageIndex})`} />
          </div>
        </BoxesToggle>
        <dl className="facts">
          <dt>verdict</dt>
          <dd className={image.correct ? 'status-FINISHED' : 'status-FAILED'}>{image.correct === null ? 'not scored' : image.correct ? 'correct' : 'incorrect'}</dd>
          <dt>score</dt>
          <dd>{image.score?.toFixed(3) ?? '—'}</dd>
          {image.reason && (
            <>
              <dt>reason</dt>
              <dd>{image.reason}</dd>
            </>
          )}
          <dt>prompt</dt>
          <dd>
            #{image.prompt.externalId}: {image.prompt.objects.join(', ')}
            {image.prompt.relation ? ` (${image.prompt.relation})` : ''}
          </dd>
          <dt>image</dt>
          <dd>
            #{image.imageIndex}, {image.width}×{image.height}
          </dd>
          <dt>detections</dt>
          <dd>
            {image.detections.length === 0
              ? 'none'
              : image.detections.map((d) => `${d.label} ${d.score.toFixed(2)} [${d.box.map((v) => v.toFixed(0)).join(', ')}]`).join('; ')}
          </dd>
        </dl>
      </div>
      {image.guidance && image.guidance.length > 0 ? <GuidanceTrace steps={image.guidance} objects={image.prompt.objects} /> : <p className="muted">No guidance trace: the image was not guided.</p>}
    </>
  );
}
