/** The run and image shapes the run, image and compare pages read. */
import type { Detection } from '@/components/ImageWithBoxes';
import type { Progress } from '@/components/LiveProgress';
import type { RunEvent } from '@/components/Timeline';
import type { ComparisonSummary } from './compare';
import { METRIC_COMPARISON_FIELDS, METRIC_DEFINITION_FIELDS, type MetricDefinition, type MetricValue } from './metrics';

export interface RunDetail {
  id: string;
  kind: string;
  status: string;
  method: string | null;
  config: unknown;
  configHash: string | null;
  benchmark: string;
  detector: string;
  threshold: number;
  seed: number;
  imagesPerPrompt: number;
  limit: number | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  team: { name: string };
  model: { name: string } | null;
  promptSet: { name: string; promptCount: number };
  sourceRun: { id: string } | null;
  progress: Progress;
  timeline: RunEvent[];
  aggregates: {
    scorerVersion: string;
    promptsScored: number;
    imagesScored: number;
    metrics: MetricValue[];
    byRelation: { relation: string; metrics: MetricValue[] }[];
  } | null;
  /** the parameters that differ from the method's defaults for the model; null without a configuration */
  configChanges: { key: string; value: unknown; default: unknown }[] | null;
  /** against the matching baseline (a), this run being b */
  versusBaseline: (ComparisonSummary & { a: { id: string; seed: number } }) | null;
}

export const RUN_FIELDS = /* GraphQL */ `
  fragment RunFields on Run {
    id kind status method config configHash benchmark detector threshold seed imagesPerPrompt limit error createdAt finishedAt
    team { name } model { name } promptSet { name promptCount } sourceRun { id }
    progress { prompts totalImages imagesGenerated imagesEvaluated fraction }
    timeline { status at reason }
    aggregates { scorerVersion promptsScored imagesScored metrics { key value low high } byRelation { relation metrics { key value low high } } }
    configChanges { key value default }
    versusBaseline {
      a { id seed } pairing sharedPrompts notes primaryMetric
      metrics { ${METRIC_COMPARISON_FIELDS} }
      byRelation { relation prompts metrics { ${METRIC_COMPARISON_FIELDS} } }
    }
  }
`;

export interface ImageNode {
  id: string;
  imageIndex: number;
  url: string;
  width: number | null;
  height: number | null;
  score: number | null;
  correct: boolean | null;
  reason: string | null;
  prompt: { externalId: number; text: string; objects: string[]; relation: string | null };
  detections: Detection[];
}

export const IMAGE_FIELDS = /* GraphQL */ `
  fragment ImageFields on Image {
    id imageIndex url width height score correct reason
    prompt { externalId text objects relation }
    detections { label score box }
  }
`;

export interface BenchmarkMetrics {
  name: string;
  metrics: MetricDefinition[];
}

export const BENCHMARK_METRICS = /* GraphQL */ `benchmarks { name metrics { ${METRIC_DEFINITION_FIELDS} } }`;
