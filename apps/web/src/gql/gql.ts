/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Queue {\n    queueHealth {\n      queues { name waiting active failed delayed oldestWaitingSeconds }\n      stuckRuns { reason run { id status method updatedAt model { name } } }\n      failedRuns { reason run { id status method updatedAt model { name } } }\n    }\n  }\n": typeof types.QueueDocument,
    "\n  query RunImagesExport($id: ID!, $after: String) {\n    images(runId: $id, first: 100, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges { node { id imageIndex correct score reason prompt { externalId text relation } detections { label score box } } }\n    }\n  }\n": typeof types.RunImagesExportDocument,
    "\n  query ImagePage($id: ID!) {\n    image(id: $id) {\n      ...ImageFields runId guidance { step loss centroids }\n      run { id method seed model { name } }\n      previous { id prompt { text } imageIndex }\n      next { id prompt { text } imageIndex }\n      otherRuns { id runId url correct score imageIndex run { method seed model { name } detector threshold } }\n    }\n  }\n": typeof types.ImagePageDocument,
    "\n  query RunPage($id: ID!, $filter: ImageFilter, $first: Int, $after: String, $last: Int, $before: String) {\n    run(id: $id) { ...RunFields }\n    images(runId: $id, filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      totalCount startIndex\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      edges { node { ...ImageFields } }\n    }\n    benchmarks { name metrics { ...MetricDefinitionFields } }\n  }\n": typeof types.RunPageDocument,
    "\n  query Runs($first: Int, $after: String, $filter: RunFilter) {\n    runs(first: $first, after: $after, filter: $filter, sort: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id status kind method benchmark detector threshold createdAt team { name } model { name } promptSet { name } progress { fraction } } }\n    }\n  }\n": typeof types.RunsDocument,
    "\n  query SubmitCatalogue {\n    benchmarks { name defaultThreshold defaultImagesPerPrompt promptSets { name promptCount } }\n    models { name }\n    methods { name parameterSchema }\n  }\n": typeof types.SubmitCatalogueDocument,
    "\n  query MethodDefaults($model: String) { methods { name defaults(model: $model) } }\n": typeof types.MethodDefaultsDocument,
    "\n  query GenerationTimes($method: String) { models { name generationTime(method: $method) { secondsPerImage images } } }\n": typeof types.GenerationTimesDocument,
    "\n  query SubmitFrom($id: ID!) {\n    run(id: $id) { id kind benchmark promptSet { name } model { name } method configChanges { key value } detector threshold seed imagesPerPrompt limit imageSet { id } }\n  }\n": typeof types.SubmitFromDocument,
    "\n  query RunProgress($id: ID!) { run(id: $id) { status progress { ...ProgressFields } } }\n": typeof types.RunProgressDocument,
    "\n  mutation SubmitRun($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id } } }\n": typeof types.SubmitRunDocument,
    "mutation CancelRun($id: ID!) { cancelRun(id: $id) { id status } }": typeof types.CancelRunDocument,
    "mutation RetryRun($id: ID!) { retryRun(id: $id) { id status } }": typeof types.RetryRunDocument,
    "mutation DeleteRun($id: ID!) { deleteRun(id: $id) { id } }": typeof types.DeleteRunDocument,
    "\n  mutation RescoreRun($id: ID!, $detector: String, $threshold: Float) { rescoreRun(runId: $id, detector: $detector, threshold: $threshold) { reused run { id } } }\n": typeof types.RescoreRunDocument,
    "\n  query Pairing($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairing } }\n": typeof types.PairingDocument,
    "\n  query Compare($a: ID!, $b: ID!, $first: Int, $after: String, $disagreeing: Boolean, $imagePaired: Boolean!) {\n    compareRuns(a: $a, b: $b) {\n      a { ...RunChoiceFields }\n      b { ...RunChoiceFields }\n      ...ComparisonSummaryFields\n      pairs bothCorrect neitherCorrect onlyA onlyB mcnemarP\n      images(first: $first, after: $after, disagreeing: $disagreeing) @include(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { imageIndex prompt { externalId text relation } a { ...ImageFields runId } b { ...ImageFields runId } } }\n      }\n      prompts(first: $first, after: $after, disagreeing: $disagreeing) @skip(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { prompt { externalId text relation } a { id runId imageIndex url correct score } b { id runId imageIndex url correct score } aCorrect bCorrect } }\n      }\n    }\n    benchmarks { name metrics { ...MetricDefinitionFields } }\n  }\n": typeof types.CompareDocument,
    "\n  query CompareExport($a: ID!, $b: ID!, $after: String, $imagePaired: Boolean!) {\n    compareRuns(a: $a, b: $b) {\n      a { ...RunChoiceFields }\n      b { ...RunChoiceFields }\n      pairing sharedPrompts notes primaryMetric\n      metrics { ...MetricComparisonFields }\n      images(first: 100, after: $after) @include(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { imageIndex prompt { externalId text relation } a { id correct score } b { id correct score } } }\n      }\n      prompts(first: 100, after: $after) @skip(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { prompt { externalId text relation } a { id imageIndex correct score } b { id imageIndex correct score } aCorrect bCorrect } }\n      }\n    }\n  }\n": typeof types.CompareExportDocument,
    "\n  query FinishedRuns {\n    runs(first: 100, filter: { status: [FINISHED] }, sort: { field: CREATED_AT, direction: DESC }) {\n      edges { node { ...RunChoiceFields } }\n    }\n  }\n": typeof types.FinishedRunsDocument,
    "\n  fragment MetricDefinitionFields on MetricDefinition { key label higherIsBetter description unit primary minImagesPerPrompt }\n": typeof types.MetricDefinitionFieldsFragmentDoc,
    "\n  fragment MetricValueFields on MetricValue { key value low high }\n": typeof types.MetricValueFieldsFragmentDoc,
    "\n  fragment MetricComparisonFields on MetricComparison { key a b difference low high test p beyondNoise }\n": typeof types.MetricComparisonFieldsFragmentDoc,
    "\n  fragment ComparisonSummaryFields on RunComparison {\n    pairing sharedPrompts notes primaryMetric\n    metrics { ...MetricComparisonFields }\n    byRelation { relation prompts metrics { ...MetricComparisonFields } }\n  }\n": typeof types.ComparisonSummaryFieldsFragmentDoc,
    "\n  fragment RunCostFields on RunCost { secondsPerImage unetEvaluationsPerImage backwardPassesPerImage device images }\n": typeof types.RunCostFieldsFragmentDoc,
    "\n  fragment ImageFields on Image {\n    id imageIndex url width height score correct reason\n    prompt { externalId text objects relation }\n    detections { label score box }\n  }\n": typeof types.ImageFieldsFragmentDoc,
    "\n  fragment RunFields on Run {\n    id kind status method config configHash benchmark detector threshold seed imagesPerPrompt limit error createdAt finishedAt\n    team { name } model { name } promptSet { name promptCount } sourceRun { id }\n    progress { ...ProgressFields }\n    timeline { status at reason }\n    aggregates { scorerVersion promptsScored imagesScored metrics { ...MetricValueFields } byRelation { relation metrics { ...MetricValueFields } } }\n    configChanges { key value default }\n    cost { ...RunCostFields }\n    versusBaseline { a { id seed } ...ComparisonSummaryFields }\n  }\n": typeof types.RunFieldsFragmentDoc,
    "\n  fragment ProgressFields on RunProgress { prompts totalImages imagesGenerated imagesEvaluated fraction }\n": typeof types.ProgressFieldsFragmentDoc,
    "\n  fragment RunChoiceFields on Run { id method seed imagesPerPrompt benchmark detector threshold model { name } promptSet { name } }\n": typeof types.RunChoiceFieldsFragmentDoc,
    "\n  query Leaderboard($benchmark: String!, $model: String, $detector: String, $sort: LeaderboardSort, $withBaseline: Boolean!) {\n    leaderboard(benchmark: $benchmark, model: $model, detector: $detector, sort: $sort) {\n      rank ranked promptsScored imagesScored method configHash isBaseline detector threshold\n      model { name }\n      run { id config seed imagesPerPrompt limit finishedAt promptSet { name } team { name } }\n      metrics { ...MetricValueFields }\n      cost { ...RunCostFields }\n      versusBaseline @include(if: $withBaseline) { baseline { id } deltas { key value } primary { ...MetricComparisonFields } beyondNoise }\n      versusLeader @include(if: $withBaseline) { leader { id } primary { ...MetricComparisonFields } tiedWithinNoise }\n    }\n  }\n": typeof types.LeaderboardDocument,
    "\n  query Catalogue {\n    benchmarks { name defaultThreshold primaryMetric latestFinishedAt metrics { ...MetricDefinitionFields } }\n    models { name }\n    methods { name }\n    leaderboardRules { minRankedImages }\n  }\n": typeof types.CatalogueDocument,
    "\n  query Viewer { viewer { team { name } token { name prefix expiresAt } } }\n": typeof types.ViewerDocument,
};
const documents: Documents = {
    "\n  query Queue {\n    queueHealth {\n      queues { name waiting active failed delayed oldestWaitingSeconds }\n      stuckRuns { reason run { id status method updatedAt model { name } } }\n      failedRuns { reason run { id status method updatedAt model { name } } }\n    }\n  }\n": types.QueueDocument,
    "\n  query RunImagesExport($id: ID!, $after: String) {\n    images(runId: $id, first: 100, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges { node { id imageIndex correct score reason prompt { externalId text relation } detections { label score box } } }\n    }\n  }\n": types.RunImagesExportDocument,
    "\n  query ImagePage($id: ID!) {\n    image(id: $id) {\n      ...ImageFields runId guidance { step loss centroids }\n      run { id method seed model { name } }\n      previous { id prompt { text } imageIndex }\n      next { id prompt { text } imageIndex }\n      otherRuns { id runId url correct score imageIndex run { method seed model { name } detector threshold } }\n    }\n  }\n": types.ImagePageDocument,
    "\n  query RunPage($id: ID!, $filter: ImageFilter, $first: Int, $after: String, $last: Int, $before: String) {\n    run(id: $id) { ...RunFields }\n    images(runId: $id, filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      totalCount startIndex\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      edges { node { ...ImageFields } }\n    }\n    benchmarks { name metrics { ...MetricDefinitionFields } }\n  }\n": types.RunPageDocument,
    "\n  query Runs($first: Int, $after: String, $filter: RunFilter) {\n    runs(first: $first, after: $after, filter: $filter, sort: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id status kind method benchmark detector threshold createdAt team { name } model { name } promptSet { name } progress { fraction } } }\n    }\n  }\n": types.RunsDocument,
    "\n  query SubmitCatalogue {\n    benchmarks { name defaultThreshold defaultImagesPerPrompt promptSets { name promptCount } }\n    models { name }\n    methods { name parameterSchema }\n  }\n": types.SubmitCatalogueDocument,
    "\n  query MethodDefaults($model: String) { methods { name defaults(model: $model) } }\n": types.MethodDefaultsDocument,
    "\n  query GenerationTimes($method: String) { models { name generationTime(method: $method) { secondsPerImage images } } }\n": types.GenerationTimesDocument,
    "\n  query SubmitFrom($id: ID!) {\n    run(id: $id) { id kind benchmark promptSet { name } model { name } method configChanges { key value } detector threshold seed imagesPerPrompt limit imageSet { id } }\n  }\n": types.SubmitFromDocument,
    "\n  query RunProgress($id: ID!) { run(id: $id) { status progress { ...ProgressFields } } }\n": types.RunProgressDocument,
    "\n  mutation SubmitRun($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id } } }\n": types.SubmitRunDocument,
    "mutation CancelRun($id: ID!) { cancelRun(id: $id) { id status } }": types.CancelRunDocument,
    "mutation RetryRun($id: ID!) { retryRun(id: $id) { id status } }": types.RetryRunDocument,
    "mutation DeleteRun($id: ID!) { deleteRun(id: $id) { id } }": types.DeleteRunDocument,
    "\n  mutation RescoreRun($id: ID!, $detector: String, $threshold: Float) { rescoreRun(runId: $id, detector: $detector, threshold: $threshold) { reused run { id } } }\n": types.RescoreRunDocument,
    "\n  query Pairing($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairing } }\n": types.PairingDocument,
    "\n  query Compare($a: ID!, $b: ID!, $first: Int, $after: String, $disagreeing: Boolean, $imagePaired: Boolean!) {\n    compareRuns(a: $a, b: $b) {\n      a { ...RunChoiceFields }\n      b { ...RunChoiceFields }\n      ...ComparisonSummaryFields\n      pairs bothCorrect neitherCorrect onlyA onlyB mcnemarP\n      images(first: $first, after: $after, disagreeing: $disagreeing) @include(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { imageIndex prompt { externalId text relation } a { ...ImageFields runId } b { ...ImageFields runId } } }\n      }\n      prompts(first: $first, after: $after, disagreeing: $disagreeing) @skip(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { prompt { externalId text relation } a { id runId imageIndex url correct score } b { id runId imageIndex url correct score } aCorrect bCorrect } }\n      }\n    }\n    benchmarks { name metrics { ...MetricDefinitionFields } }\n  }\n": types.CompareDocument,
    "\n  query CompareExport($a: ID!, $b: ID!, $after: String, $imagePaired: Boolean!) {\n    compareRuns(a: $a, b: $b) {\n      a { ...RunChoiceFields }\n      b { ...RunChoiceFields }\n      pairing sharedPrompts notes primaryMetric\n      metrics { ...MetricComparisonFields }\n      images(first: 100, after: $after) @include(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { imageIndex prompt { externalId text relation } a { id correct score } b { id correct score } } }\n      }\n      prompts(first: 100, after: $after) @skip(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { prompt { externalId text relation } a { id imageIndex correct score } b { id imageIndex correct score } aCorrect bCorrect } }\n      }\n    }\n  }\n": types.CompareExportDocument,
    "\n  query FinishedRuns {\n    runs(first: 100, filter: { status: [FINISHED] }, sort: { field: CREATED_AT, direction: DESC }) {\n      edges { node { ...RunChoiceFields } }\n    }\n  }\n": types.FinishedRunsDocument,
    "\n  fragment MetricDefinitionFields on MetricDefinition { key label higherIsBetter description unit primary minImagesPerPrompt }\n": types.MetricDefinitionFieldsFragmentDoc,
    "\n  fragment MetricValueFields on MetricValue { key value low high }\n": types.MetricValueFieldsFragmentDoc,
    "\n  fragment MetricComparisonFields on MetricComparison { key a b difference low high test p beyondNoise }\n": types.MetricComparisonFieldsFragmentDoc,
    "\n  fragment ComparisonSummaryFields on RunComparison {\n    pairing sharedPrompts notes primaryMetric\n    metrics { ...MetricComparisonFields }\n    byRelation { relation prompts metrics { ...MetricComparisonFields } }\n  }\n": types.ComparisonSummaryFieldsFragmentDoc,
    "\n  fragment RunCostFields on RunCost { secondsPerImage unetEvaluationsPerImage backwardPassesPerImage device images }\n": types.RunCostFieldsFragmentDoc,
    "\n  fragment ImageFields on Image {\n    id imageIndex url width height score correct reason\n    prompt { externalId text objects relation }\n    detections { label score box }\n  }\n": types.ImageFieldsFragmentDoc,
    "\n  fragment RunFields on Run {\n    id kind status method config configHash benchmark detector threshold seed imagesPerPrompt limit error createdAt finishedAt\n    team { name } model { name } promptSet { name promptCount } sourceRun { id }\n    progress { ...ProgressFields }\n    timeline { status at reason }\n    aggregates { scorerVersion promptsScored imagesScored metrics { ...MetricValueFields } byRelation { relation metrics { ...MetricValueFields } } }\n    configChanges { key value default }\n    cost { ...RunCostFields }\n    versusBaseline { a { id seed } ...ComparisonSummaryFields }\n  }\n": types.RunFieldsFragmentDoc,
    "\n  fragment ProgressFields on RunProgress { prompts totalImages imagesGenerated imagesEvaluated fraction }\n": types.ProgressFieldsFragmentDoc,
    "\n  fragment RunChoiceFields on Run { id method seed imagesPerPrompt benchmark detector threshold model { name } promptSet { name } }\n": types.RunChoiceFieldsFragmentDoc,
    "\n  query Leaderboard($benchmark: String!, $model: String, $detector: String, $sort: LeaderboardSort, $withBaseline: Boolean!) {\n    leaderboard(benchmark: $benchmark, model: $model, detector: $detector, sort: $sort) {\n      rank ranked promptsScored imagesScored method configHash isBaseline detector threshold\n      model { name }\n      run { id config seed imagesPerPrompt limit finishedAt promptSet { name } team { name } }\n      metrics { ...MetricValueFields }\n      cost { ...RunCostFields }\n      versusBaseline @include(if: $withBaseline) { baseline { id } deltas { key value } primary { ...MetricComparisonFields } beyondNoise }\n      versusLeader @include(if: $withBaseline) { leader { id } primary { ...MetricComparisonFields } tiedWithinNoise }\n    }\n  }\n": types.LeaderboardDocument,
    "\n  query Catalogue {\n    benchmarks { name defaultThreshold primaryMetric latestFinishedAt metrics { ...MetricDefinitionFields } }\n    models { name }\n    methods { name }\n    leaderboardRules { minRankedImages }\n  }\n": types.CatalogueDocument,
    "\n  query Viewer { viewer { team { name } token { name prefix expiresAt } } }\n": types.ViewerDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Queue {\n    queueHealth {\n      queues { name waiting active failed delayed oldestWaitingSeconds }\n      stuckRuns { reason run { id status method updatedAt model { name } } }\n      failedRuns { reason run { id status method updatedAt model { name } } }\n    }\n  }\n"): typeof import('./graphql').QueueDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunImagesExport($id: ID!, $after: String) {\n    images(runId: $id, first: 100, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges { node { id imageIndex correct score reason prompt { externalId text relation } detections { label score box } } }\n    }\n  }\n"): typeof import('./graphql').RunImagesExportDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ImagePage($id: ID!) {\n    image(id: $id) {\n      ...ImageFields runId guidance { step loss centroids }\n      run { id method seed model { name } }\n      previous { id prompt { text } imageIndex }\n      next { id prompt { text } imageIndex }\n      otherRuns { id runId url correct score imageIndex run { method seed model { name } detector threshold } }\n    }\n  }\n"): typeof import('./graphql').ImagePageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunPage($id: ID!, $filter: ImageFilter, $first: Int, $after: String, $last: Int, $before: String) {\n    run(id: $id) { ...RunFields }\n    images(runId: $id, filter: $filter, first: $first, after: $after, last: $last, before: $before) {\n      totalCount startIndex\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      edges { node { ...ImageFields } }\n    }\n    benchmarks { name metrics { ...MetricDefinitionFields } }\n  }\n"): typeof import('./graphql').RunPageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Runs($first: Int, $after: String, $filter: RunFilter) {\n    runs(first: $first, after: $after, filter: $filter, sort: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id status kind method benchmark detector threshold createdAt team { name } model { name } promptSet { name } progress { fraction } } }\n    }\n  }\n"): typeof import('./graphql').RunsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SubmitCatalogue {\n    benchmarks { name defaultThreshold defaultImagesPerPrompt promptSets { name promptCount } }\n    models { name }\n    methods { name parameterSchema }\n  }\n"): typeof import('./graphql').SubmitCatalogueDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MethodDefaults($model: String) { methods { name defaults(model: $model) } }\n"): typeof import('./graphql').MethodDefaultsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GenerationTimes($method: String) { models { name generationTime(method: $method) { secondsPerImage images } } }\n"): typeof import('./graphql').GenerationTimesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SubmitFrom($id: ID!) {\n    run(id: $id) { id kind benchmark promptSet { name } model { name } method configChanges { key value } detector threshold seed imagesPerPrompt limit imageSet { id } }\n  }\n"): typeof import('./graphql').SubmitFromDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunProgress($id: ID!) { run(id: $id) { status progress { ...ProgressFields } } }\n"): typeof import('./graphql').RunProgressDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SubmitRun($input: SubmitRunInput!) { submitRun(input: $input) { reused run { id } } }\n"): typeof import('./graphql').SubmitRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CancelRun($id: ID!) { cancelRun(id: $id) { id status } }"): typeof import('./graphql').CancelRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RetryRun($id: ID!) { retryRun(id: $id) { id status } }"): typeof import('./graphql').RetryRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation DeleteRun($id: ID!) { deleteRun(id: $id) { id } }"): typeof import('./graphql').DeleteRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RescoreRun($id: ID!, $detector: String, $threshold: Float) { rescoreRun(runId: $id, detector: $detector, threshold: $threshold) { reused run { id } } }\n"): typeof import('./graphql').RescoreRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Pairing($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { pairing } }\n"): typeof import('./graphql').PairingDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Compare($a: ID!, $b: ID!, $first: Int, $after: String, $disagreeing: Boolean, $imagePaired: Boolean!) {\n    compareRuns(a: $a, b: $b) {\n      a { ...RunChoiceFields }\n      b { ...RunChoiceFields }\n      ...ComparisonSummaryFields\n      pairs bothCorrect neitherCorrect onlyA onlyB mcnemarP\n      images(first: $first, after: $after, disagreeing: $disagreeing) @include(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { imageIndex prompt { externalId text relation } a { ...ImageFields runId } b { ...ImageFields runId } } }\n      }\n      prompts(first: $first, after: $after, disagreeing: $disagreeing) @skip(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { prompt { externalId text relation } a { id runId imageIndex url correct score } b { id runId imageIndex url correct score } aCorrect bCorrect } }\n      }\n    }\n    benchmarks { name metrics { ...MetricDefinitionFields } }\n  }\n"): typeof import('./graphql').CompareDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CompareExport($a: ID!, $b: ID!, $after: String, $imagePaired: Boolean!) {\n    compareRuns(a: $a, b: $b) {\n      a { ...RunChoiceFields }\n      b { ...RunChoiceFields }\n      pairing sharedPrompts notes primaryMetric\n      metrics { ...MetricComparisonFields }\n      images(first: 100, after: $after) @include(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { imageIndex prompt { externalId text relation } a { id correct score } b { id correct score } } }\n      }\n      prompts(first: 100, after: $after) @skip(if: $imagePaired) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { prompt { externalId text relation } a { id imageIndex correct score } b { id imageIndex correct score } aCorrect bCorrect } }\n      }\n    }\n  }\n"): typeof import('./graphql').CompareExportDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FinishedRuns {\n    runs(first: 100, filter: { status: [FINISHED] }, sort: { field: CREATED_AT, direction: DESC }) {\n      edges { node { ...RunChoiceFields } }\n    }\n  }\n"): typeof import('./graphql').FinishedRunsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MetricDefinitionFields on MetricDefinition { key label higherIsBetter description unit primary minImagesPerPrompt }\n"): typeof import('./graphql').MetricDefinitionFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MetricValueFields on MetricValue { key value low high }\n"): typeof import('./graphql').MetricValueFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MetricComparisonFields on MetricComparison { key a b difference low high test p beyondNoise }\n"): typeof import('./graphql').MetricComparisonFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ComparisonSummaryFields on RunComparison {\n    pairing sharedPrompts notes primaryMetric\n    metrics { ...MetricComparisonFields }\n    byRelation { relation prompts metrics { ...MetricComparisonFields } }\n  }\n"): typeof import('./graphql').ComparisonSummaryFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunCostFields on RunCost { secondsPerImage unetEvaluationsPerImage backwardPassesPerImage device images }\n"): typeof import('./graphql').RunCostFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ImageFields on Image {\n    id imageIndex url width height score correct reason\n    prompt { externalId text objects relation }\n    detections { label score box }\n  }\n"): typeof import('./graphql').ImageFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunFields on Run {\n    id kind status method config configHash benchmark detector threshold seed imagesPerPrompt limit error createdAt finishedAt\n    team { name } model { name } promptSet { name promptCount } sourceRun { id }\n    progress { ...ProgressFields }\n    timeline { status at reason }\n    aggregates { scorerVersion promptsScored imagesScored metrics { ...MetricValueFields } byRelation { relation metrics { ...MetricValueFields } } }\n    configChanges { key value default }\n    cost { ...RunCostFields }\n    versusBaseline { a { id seed } ...ComparisonSummaryFields }\n  }\n"): typeof import('./graphql').RunFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ProgressFields on RunProgress { prompts totalImages imagesGenerated imagesEvaluated fraction }\n"): typeof import('./graphql').ProgressFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunChoiceFields on Run { id method seed imagesPerPrompt benchmark detector threshold model { name } promptSet { name } }\n"): typeof import('./graphql').RunChoiceFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Leaderboard($benchmark: String!, $model: String, $detector: String, $sort: LeaderboardSort, $withBaseline: Boolean!) {\n    leaderboard(benchmark: $benchmark, model: $model, detector: $detector, sort: $sort) {\n      rank ranked promptsScored imagesScored method configHash isBaseline detector threshold\n      model { name }\n      run { id config seed imagesPerPrompt limit finishedAt promptSet { name } team { name } }\n      metrics { ...MetricValueFields }\n      cost { ...RunCostFields }\n      versusBaseline @include(if: $withBaseline) { baseline { id } deltas { key value } primary { ...MetricComparisonFields } beyondNoise }\n      versusLeader @include(if: $withBaseline) { leader { id } primary { ...MetricComparisonFields } tiedWithinNoise }\n    }\n  }\n"): typeof import('./graphql').LeaderboardDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Catalogue {\n    benchmarks { name defaultThreshold primaryMetric latestFinishedAt metrics { ...MetricDefinitionFields } }\n    models { name }\n    methods { name }\n    leaderboardRules { minRankedImages }\n  }\n"): typeof import('./graphql').CatalogueDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer { viewer { team { name } token { name prefix expiresAt } } }\n"): typeof import('./graphql').ViewerDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
