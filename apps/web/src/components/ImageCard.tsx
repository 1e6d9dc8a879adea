import Link from 'next/link';
import type { ImageNode } from '@/lib/run';
import { ImageWithBoxes } from './ImageWithBoxes';

/** One scored image: boxes over it, its verdict and why, and a permalink. */
export function ImageCard({ runId, image }: { runId: string; image: ImageNode }) {
  const verdict = image.correct === null ? 'not scored' : image.correct ? 'correct' : 'incorrect';
  return (
    <article className={`card${image.correct === false ? ' incorrect' : ''}`} data-image={image.id} data-correct={String(image.correct)}>
      <ImageWithBoxes
        url={image.url}
        width={image.width}
        height={image.height}
        detections={image.detections}
        alt={`${image.prompt.text} (image ${image.imageIndex})`}
      />
      <p>{image.prompt.text}</p>
      <p>
        <strong className={image.correct ? 'status-FINISHED' : 'status-FAILED'}>{verdict}</strong>
        {image.score !== null && <span className="muted"> · score {image.score.toFixed(2)}</span>}
        <span className="muted"> · #{image.imageIndex}</span>
      </p>
      {image.reason && <p className="muted">{image.reason}</p>}
      <p>
        <Link href={`/runs/${runId}/images/${image.id}`}>Permalink</Link>
      </p>
    </article>
  );
}
