/** compareRuns as the compare page and its export read it. */
import { IMAGE_FIELDS, type ImageNode } from './run';
import { METRIC_COMPARISON_FIELDS, METRIC_DEFINITION_FIELDS, type MetricComparison, type MetricDefinition } from './metrics';

export interface ComparedRun {
  id: string;
  method: string | null;
  seed: number;
  imagesPerPrompt: number;
  benchmark: string;
  detector: string;
  threshold: number;
  model: { name: string } | null;
  promptSet: { name: string };
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** A compared image's fields on the prompt cards: enough for a thumbnail and its verdict. */
export interface Thumb {
  id: string;
  runId: string;
  imageIndex: number;
  url: string;
  correct: boolean | null;
  score: number | null;
}

export interface ComparedPrompt {
  prompt: { externalId: number; text: string; relation: string | null };
  a: Thumb[];
  b: Thumb[];
  aCorrect: number;
  bCorrect: number;
}

export interface ComparedPair {
  imageIndex: number;
  prompt: { externalId: number; text: string; relation: string | null };
  a: ImageNode & { runId: string };
  b: ImageNode & { runId: string };
}

/** How two runs compare, metric by metric (compareRuns, Run.versusBaseline). */
export interface ComparisonSummary {
  pairing: 'IMAGE' | 'PROMPT';
  sharedPrompts: number;
  notes: string[];
  primaryMetric: string;
  metrics: MetricComparison[];
  byRelation: { relation: string; prompts: number; metrics: MetricComparison[] }[];
}

export interface Comparison extends ComparisonSummary {
  a: ComparedRun;
  b: ComparedRun;
  pairs: number;
  bothCorrect: number;
  neitherCorrect: number;
  onlyA: number;
  onlyB: number;
  mcnemarP: number | null;
  /** present when the pairing is IMAGE */
  images?: { pageInfo: PageInfo; edges: { node: ComparedPair }[] };
  /** present when the pairing is PROMPT */
  prompts?: { pageInfo: PageInfo; edges: { node: ComparedPrompt }[] };
}

const RUN = 'id method seed imagesPerPrompt benchmark detector threshold model { name } promptSet { name }';
const THUMB = 'id runId imageIndex url correct score';

/** How two runs pair (IMAGE or PROMPT), which decides the listing to page through; BAD_USER_INPUT when they cannot be compared. */
export const PAIRING = /* GraphQL */ `
  query Pairing($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairing } }
`;

/** The comparison with one page of its image pairs (IMAGE pairing) or of its prompts (PROMPT). */
export const COMPARE = /* GraphQL */ `
  ${IMAGE_FIELDS}
  query Compare($a: ID!, $b: ID!, $first: Int, $after: String, $disagreeing: Boolean, $imagePaired: Boolean!) {
    compareRuns(a: $a, b: $b) {
      a { ${RUN} }
      b { ${RUN} }
      pairing sharedPrompts notes primaryMetric pairs bothCorrect neitherCorrect onlyA onlyB mcnemarP
      metrics { ${METRIC_COMPARISON_FIELDS} }
      byRelation { relation prompts metrics { ${METRIC_COMPARISON_FIELDS} } }
      images(first: $first, after: $after, disagreeing: $disagreeing) @include(if: $imagePaired) {
        pageInfo { hasNextPage endCursor }
        edges { node { imageIndex prompt { externalId text relation } a { ...ImageFields runId } b { ...ImageFields runId } } }
      }
      prompts(first: $first, after: $after, disagreeing: $disagreeing) @skip(if: $imagePaired) {
        pageInfo { hasNextPage endCursor }
        edges { node { prompt { externalId text relation } a { ${THUMB} } b { ${THUMB} } aCorrect bCorrect } }
      }
    }
    benchmarks { name metrics { ${METRIC_DEFINITION_FIELDS} } }
  }
`;

export interface CompareData {
  compareRuns: Comparison;
  benchmarks: { name: string; metrics: MetricDefinition[] }[];
}

/** Every pair of a comparison, page by page: image pairs when the pairing is IMAGE, else prompts. */
export const COMPARE_EXPORT = /* GraphQL */ `
  query CompareExport($a: ID!, $b: ID!, $after: String, $imagePaired: Boolean!) {
    compareRuns(a: $a, b: $b) {
      a { ${RUN} }
      b { ${RUN} }
      pairing sharedPrompts notes primaryMetric
      metrics { ${METRIC_COMPARISON_FIELDS} }
      images(first: 100, after: $after) @include(if: $imagePaired) {
        pageInfo { hasNextPage endCursor }
        edges { node { imageIndex prompt { externalId text relation } a { id correct score } b { id correct score } } }
      }
      prompts(first: 100, after: $after) @skip(if: $imagePaired) {
        pageInfo { hasNextPage endCursor }
        edges { node { prompt { externalId text relation } a { id imageIndex correct score } b { id imageIndex correct score } aCorrect bCorrect } }
      }
    }
  }
`;

export interface ExportPage {
  compareRuns: Omit<Comparison, 'byRelation' | 'images' | 'prompts' | 'pairs' | 'bothCorrect' | 'neitherCorrect' | 'onlyA' | 'onlyB' | 'mcnemarP'> & {
    images?: { pageInfo: PageInfo; edges: { node: { imageIndex: number; prompt: ComparedPrompt['prompt']; a: Pick<Thumb, 'id' | 'correct' | 'score'>; b: Pick<Thumb, 'id' | 'correct' | 'score'> } }[] };
    prompts?: { pageInfo: PageInfo; edges: { node: { prompt: ComparedPrompt['prompt']; a: Pick<Thumb, 'id' | 'imageIndex' | 'correct' | 'score'>[]; b: Pick<Thumb, 'id' | 'imageIndex' | 'correct' | 'score'>[]; aCorrect: number; bCorrect: number } }[] };
  };
}

/** One exported pair: an image pair (IMAGE pairing) or a prompt with each run's tally (PROMPT). */
export type ExportedPair = Record<string, string | number | boolean | null>;

/** The pairs of one export page as flat records, the same keys for CSV and JSON. */
export function exportedPairs(page: ExportPage['compareRuns']): ExportedPair[] {
  if (page.images) {
    return page.images.edges.map(({ node }) => ({
      prompt_id: node.prompt.externalId,
      prompt: node.prompt.text,
      relation: node.prompt.relation,
      image_index: node.imageIndex,
      a_image_id: node.a.id,
      a_correct: node.a.correct,
      a_score: node.a.score,
      b_image_id: node.b.id,
      b_correct: node.b.correct,
      b_score: node.b.score,
    }));
  }
  return (page.prompts?.edges ?? []).map(({ node }) => ({
    prompt_id: node.prompt.externalId,
    prompt: node.prompt.text,
    relation: node.prompt.relation,
    a_images: node.a.length,
    a_correct: node.aCorrect,
    a_mean_score: node.a.reduce((s, i) => s + (i.score ?? 0), 0) / node.a.length,
    b_images: node.b.length,
    b_correct: node.bCorrect,
    b_mean_score: node.b.reduce((s, i) => s + (i.score ?? 0), 0) / node.b.length,
  }));
}
