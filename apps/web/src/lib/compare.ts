/** compareRuns as the compare page and its export read it. */
import { graphql } from '../gql';
import type { CompareExportQuery, CompareQuery, ComparisonSummaryFieldsFragment } from '../gql/graphql';

/** How two runs compare, metric by metric (compareRuns, Run.versusBaseline). */
export type ComparisonSummary = ComparisonSummaryFieldsFragment;
export type Comparison = CompareQuery['compareRuns'];
export type ComparedRun = Comparison['a'];
export type ComparedPrompt = NonNullable<Comparison['prompts']>['edges'][number]['node'];
export type ComparedPair = NonNullable<Comparison['images']>['edges'][number]['node'];
/** A compared image's fields on the prompt cards: enough for a thumbnail and its verdict. */
export type Thumb = ComparedPrompt['a'][number];

/** How two runs pair (IMAGE or PROMPT), which decides the listing to page through; BAD_USER_INPUT when they cannot be compared. */
export const PAIRING = graphql(`
  query Pairing($a: ID!, $b: ID!) {
    compareRuns(a: $a, b: $b) {
      pairing
    }
  }
`);

/** The comparison with one page of its image pairs (IMAGE pairing) or of its prompts (PROMPT). */
export const COMPARE = graphql(`
  query Compare($a: ID!, $b: ID!, $first: Int, $after: String, $disagreeing: Boolean, $imagePaired: Boolean!) {
    compareRuns(a: $a, b: $b) {
      a {
        ...RunChoiceFields
      }
      b {
        ...RunChoiceFields
      }
      ...ComparisonSummaryFields
      pairs
      bothCorrect
      neitherCorrect
      onlyA
      onlyB
      mcnemarP
      images(first: $first, after: $after, disagreeing: $disagreeing) @include(if: $imagePaired) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            imageIndex
            prompt {
              externalId
              text
              relation
            }
            a {
              ...ImageFields
              runId
            }
            b {
              ...ImageFields
              runId
            }
          }
        }
      }
      prompts(first: $first, after: $after, disagreeing: $disagreeing) @skip(if: $imagePaired) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            prompt {
              externalId
              text
              relation
            }
            a {
              id
              runId
              imageIndex
              url
              correct
              score
            }
            b {
              id
              runId
              imageIndex
              url
              correct
              score
            }
            aCorrect
            bCorrect
          }
        }
      }
    }
    benchmarks {
      name
      metrics {
        ...MetricDefinitionFields
      }
    }
  }
`);

/** Every pair of a comparison, page by page: image pairs when the pairing is IMAGE, else prompts. */
export const COMPARE_EXPORT = graphql(`
  query CompareExport($a: ID!, $b: ID!, $after: String, $imagePaired: Boolean!) {
    compareRuns(a: $a, b: $b) {
      a {
        ...RunChoiceFields
      }
      b {
        ...RunChoiceFields
      }
      pairing
      sharedPrompts
      notes
      primaryMetric
      metrics {
        ...MetricComparisonFields
      }
      images(first: 100, after: $after) @include(if: $imagePaired) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            imageIndex
            prompt {
              externalId
              text
              relation
            }
            a {
              id
              correct
              score
            }
            b {
              id
              correct
              score
            }
          }
        }
      }
      prompts(first: 100, after: $after) @skip(if: $imagePaired) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            prompt {
              externalId
              text
              relation
            }
            a {
              id
              imageIndex
              correct
              score
            }
            b {
              id
              imageIndex
              correct
              score
            }
            aCorrect
            bCorrect
          }
        }
      }
    }
  }
`);

export type ExportPage = CompareExportQuery;

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
