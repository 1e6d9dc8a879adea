import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { BoxesToggle } from '@/components/BoxesToggle';
import { ErrorNotice } from '@/components/ErrorNotice';
import { ImageWithBoxes } from '@/components/ImageWithBoxes';
import { LineChart } from '@/components/LineChart';
import { graphql } from '@/gql';
import type { ImagePageQuery } from '@/gql/graphql';
import { load } from '@/lib/api';
import { shortId } from '@/lib/format';
import { isMissing } from '@/lib/graphql';

const IMAGE_PAGE = graphql(`
  query ImagePage($id: ID!) {
    image(id: $id) {
      ...ImageFields
      runId
      guidance {
        step
        loss
        centroids
      }
      run {
        id
        method
        seed
        model {
          name
        }
      }
      previous {
        id
        prompt {
          text
        }
        imageIndex
      }
      next {
        id
        prompt {
          text
        }
        imageIndex
      }
      otherRuns {
        id
        runId
        url
        correct
        score
        imageIndex
        run {
          method
          seed
          model {
            name
          }
          detector
          threshold
        }
      }
    }
  }
`);

type ImageData = NonNullable<ImagePageQuery['image']>;
type GuidanceStep = NonNullable<ImageData['guidance']>[number];
type Neighbour = NonNullable<ImageData['next']>;
type OtherRunImage = ImageData['otherRuns'][number];

type Props = { params: Promise<{ id: string; imageId: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Image ${shortId((await params).imageId)}` };
}

const [A_COLOUR, B_COLOUR] = ['#1f4fbf', '#1d6b32'];

/** What the centroid lines should do when guidance works, for the prompt's relation. */
function expectation(relation: string | null, a: string, b: string): string {
  const line = (axis: 'x' | 'y') => (axis === 'x' ? 'solid' : 'dashed');
  const expect = (axis: 'x' | 'y', lower: 'A' | 'B') =>
    `guidance should bring the ${line(axis)} ${lower === 'A' ? 'blue' : 'green'} line (${lower === 'A' ? a : b}) below the ${line(axis)} ${lower === 'A' ? 'green' : 'blue'} one`;
  switch (relation) {
    case 'left of':
      return `For "${a} left of ${b}", ${expect('x', 'A')}.`;
    case 'right of':
      return `For "${a} right of ${b}", ${expect('x', 'B')}.`;
    case 'above':
      return `For "${a} above ${b}", ${expect('y', 'A')}.`;
    case 'below':
      return `For "${a} below ${b}", ${expect('y', 'B')}.`;
    default:
      return '';
  }
}

function GuidanceTrace({ steps, objects, relation }: { steps: GuidanceStep[]; objects: string[]; relation: string | null }) {
  const [a = 'A', b = 'B'] = objects;
  const coordinate = (object: 0 | 1, axis: 0 | 1) => steps.map((s) => ({ x: s.step, y: s.centroids[object]?.[axis] ?? 0 }));
  return (
    <section aria-labelledby="guidance">
      <h2 id="guidance">Guidance over the denoising steps</h2>
      <div className="columns">
        <figure style={{ margin: 0 }}>
          <LineChart
            title="InfSplign loss per guided step"
            xLabel="denoising step"
            yLabel="loss"
            series={[{ name: 'loss', colour: '#b3261e', points: steps.map((s) => ({ x: s.step, y: s.loss })) }]}
          />
          <figcaption className="muted">
            The loss InfSplign pushes down at each guided step, before that step&apos;s update (mean over the guided attention layers).
          </figcaption>
        </figure>
        <figure style={{ margin: 0 }}>
          <LineChart
            title="Attention centroids per guided step"
            xLabel="denoising step"
            yLabel="position in the image (0 to 1)"
            yRange={[0, 1]}
            series={[
              { name: `${a}: x (left → right)`, colour: A_COLOUR, points: coordinate(0, 0) },
              { name: `${a}: y (top → bottom)`, colour: A_COLOUR, dash: '6 4', points: coordinate(0, 1) },
              { name: `${b}: x (left → right)`, colour: B_COLOUR, points: coordinate(1, 0) },
              { name: `${b}: y (top → bottom)`, colour: B_COLOUR, dash: '6 4', points: coordinate(1, 1) },
            ]}
          />
          <figcaption className="muted" data-testid="centroid-explanation">
            Where the U-Net attends to each object while the image forms: the centre of mass of the object&apos;s cross-attention map, averaged over the guided
            layers. x runs from 0 at the left edge to 1 at the right (solid lines), y from 0 at the top to 1 at the bottom (dashed lines); {a} is blue, {b}{' '}
            green. {expectation(relation, a, b)}
          </figcaption>
        </figure>
      </div>
    </section>
  );
}

function OtherRuns({ images, prompt }: { images: OtherRunImage[]; prompt: string }) {
  return (
    <section aria-labelledby="other-runs">
      <h2 id="other-runs">The same prompt in other runs</h2>
      {images.length === 0 ? (
        <p className="muted">No other finished run of this prompt set has this image.</p>
      ) : (
        <div className="thumbs wide" data-testid="other-runs">
          {images.map((image) => (
            <Link key={image.id} href={`/runs/${image.runId}/images/${image.id}`} className={image.correct ? 'status-FINISHED' : 'status-FAILED'}>
              <div className="image-boxes">
                <img src={image.url} alt={`${prompt}, image ${image.imageIndex} of run ${shortId(image.runId)}`} loading="lazy" />
              </div>
              {image.run.method ?? 'uploaded'} · {image.run.model?.name ?? 'image set'} · seed {image.run.seed}
              <br />
              {image.correct === null ? 'not scored' : image.correct ? '✓ correct' : '✗ incorrect'}
            </Link>
          ))}
        </div>
      )}
    </section>
  );
}

export default async function ImagePage({ params }: Props) {
  const { id, imageId } = await params;
  const { data, error } = await load(IMAGE_PAGE, { id: imageId });
  if (error && isMissing(error)) notFound();
  if (error) return <ErrorNotice error={error} title={`Image ${imageId} cannot be shown`} />;
  const image = data.image;
  if (!image || image.runId !== id) notFound();
  const neighbour = (n: Neighbour | null, rel: 'prev' | 'next') =>
    n && (
      <Link href={`/runs/${id}/images/${n.id}`} rel={rel}>
        {rel === 'prev' ? '← previous image' : 'next image →'}
      </Link>
    );
  return (
    <>
      <nav className="pager" aria-label="Images of this run">
        <Link href={`/runs/${id}`}>
          ↑ run {shortId(id)} ({image.run.method ?? 'uploaded images'})
        </Link>
        {neighbour(image.previous, 'prev')}
        {neighbour(image.next, 'next')}
      </nav>
      <h1>{image.prompt.text}</h1>
      <div className="columns">
        <BoxesToggle>
          <div style={{ maxWidth: 420 }}>
            <ImageWithBoxes
              url={image.url}
              width={image.width}
              height={image.height}
              detections={image.detections}
              alt={`${image.prompt.text} (image ${image.imageIndex})`}
            />
          </div>
        </BoxesToggle>
        <dl className="facts">
          <dt>verdict</dt>
          <dd className={image.correct ? 'status-FINISHED' : 'status-FAILED'}>
            {image.correct === null ? 'not scored' : image.correct ? 'correct' : 'incorrect'}
          </dd>
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
            #{image.imageIndex}, {image.width}×{image.height}, seed {image.run.seed}
          </dd>
          <dt>detections</dt>
          <dd>
            {image.detections.length === 0
              ? 'none'
              : image.detections.map((d) => `${d.label} ${d.score.toFixed(2)} [${d.box.map((v) => v.toFixed(0)).join(', ')}]`).join('; ')}
          </dd>
        </dl>
      </div>
      {image.guidance && image.guidance.length > 0 ? (
        <GuidanceTrace steps={image.guidance} objects={image.prompt.objects} relation={image.prompt.relation} />
      ) : (
        <p className="muted">No guidance trace: the image was not guided.</p>
      )}
      <OtherRuns images={image.otherRuns} prompt={image.prompt.text} />
    </>
  );
}
