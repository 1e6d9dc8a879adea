/**
 * The fields several pages ask for, as GraphQL fragments (`...MetricComparisonFields` in a document).
 * Their types are generated with the documents': MetricComparisonFieldsFragment and so on, in @/gql/graphql.
 */
import { graphql } from '../gql';

export const MetricDefinitionFields = graphql(`
  fragment MetricDefinitionFields on MetricDefinition {
    key
    label
    higherIsBetter
    description
    unit
    primary
    minImagesPerPrompt
  }
`);

export const MetricValueFields = graphql(`
  fragment MetricValueFields on MetricValue {
    key
    value
    low
    high
  }
`);

export const MetricComparisonFields = graphql(`
  fragment MetricComparisonFields on MetricComparison {
    key
    a
    b
    difference
    low
    high
    test
    p
    beyondNoise
  }
`);

/** How two runs compare, metric by metric (compareRuns, Run.versusBaseline). */
export const ComparisonSummaryFields = graphql(`
  fragment ComparisonSummaryFields on RunComparison {
    pairing
    sharedPrompts
    notes
    primaryMetric
    metrics {
      ...MetricComparisonFields
    }
    byRelation {
      relation
      prompts
      metrics {
        ...MetricComparisonFields
      }
    }
  }
`);

/** What a run's images cost per image (Run.cost, LeaderboardRow.cost). */
export const RunCostFields = graphql(`
  fragment RunCostFields on RunCost {
    secondsPerImage
    unetEvaluationsPerImage
    backwardPassesPerImage
    device
    images
  }
`);

export const ImageFields = graphql(`
  fragment ImageFields on Image {
    id
    imageIndex
    url
    width
    height
    score
    correct
    reason
    prompt {
      externalId
      text
      objects
      relation
    }
    detections {
      label
      score
      box
    }
  }
`);

export const RunFields = graphql(`
  fragment RunFields on Run {
    id
    kind
    status
    method
    config
    configHash
    benchmark
    detector
    threshold
    seed
    imagesPerPrompt
    limit
    error
    createdAt
    finishedAt
    team {
      name
    }
    model {
      name
    }
    promptSet {
      name
      promptCount
    }
    sourceRun {
      id
    }
    progress {
      ...ProgressFields
    }
    timeline {
      status
      at
      reason
    }
    aggregates {
      scorerVersion
      promptsScored
      imagesScored
      metrics {
        ...MetricValueFields
      }
      byRelation {
        relation
        metrics {
          ...MetricValueFields
        }
      }
    }
    configChanges {
      key
      value
      default
    }
    cost {
      ...RunCostFields
    }
    versusBaseline {
      a {
        id
        seed
      }
      ...ComparisonSummaryFields
    }
  }
`);

export const ProgressFields = graphql(`
  fragment ProgressFields on RunProgress {
    prompts
    totalImages
    imagesGenerated
    imagesEvaluated
    fraction
  }
`);

/** A run as the compare page and the run pickers name it. */
export const RunChoiceFields = graphql(`
  fragment RunChoiceFields on Run {
    id
    method
    seed
    imagesPerPrompt
    benchmark
    detector
    threshold
    model {
      name
    }
    promptSet {
      name
    }
  }
`);
