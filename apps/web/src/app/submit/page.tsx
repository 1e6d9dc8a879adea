import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorNotice } from '@/components/ErrorNotice';
import { graphql } from '@/gql';
import { load } from '@/lib/api';
import { isMissing } from '@/lib/graphql';
import { paramFields, type JsonSchema } from '@/lib/param-schema';
import { param, type SearchParams } from '@/lib/search-params';
import { currentSession } from '@/lib/session';
import { startFromRun, type FormStart } from '@/lib/submit-form';
import { SubmitForm, type SubmitCatalogue } from './SubmitForm';

export const metadata: Metadata = { title: 'Submit a run' };

const CATALOGUE = graphql(`
  query SubmitCatalogue {
    benchmarks {
      name
      defaultThreshold
      defaultImagesPerPrompt
      promptSets {
        name
        promptCount
      }
    }
    models {
      name
    }
    methods {
      name
      parameterSchema
    }
  }
`);

const DEFAULTS = graphql(`
  query MethodDefaults($model: String) {
    methods {
      name
      defaults(model: $model)
    }
  }
`);

const GENERATION_TIMES = graphql(`
  query GenerationTimes($method: String) {
    models {
      name
      generationTime(method: $method) {
        secondsPerImage
        images
      }
    }
  }
`);

const SOURCE_RUN = graphql(`
  query SubmitFrom($id: ID!) {
    run(id: $id) {
      id
      kind
      benchmark
      promptSet {
        name
      }
      model {
        name
      }
      method
      configChanges {
        key
        value
      }
      detector
      threshold
      seed
      imagesPerPrompt
      limit
      imageSet {
        id
      }
    }
  }
`);

export default async function SubmitPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const from = param(await searchParams, 'from');
  const [catalogue, session] = await Promise.all([load(CATALOGUE), currentSession()]);
  if (catalogue.error) return <ErrorNotice error={catalogue.error} title="The submit form needs the API" />;
  const { benchmarks, models, methods } = catalogue.data;
  // Every method's defaults for every model, and every method's recorded time per model.
  const [defaults, times, source] = await Promise.all([
    Promise.all(models.map((m) => load(DEFAULTS, { model: m.name }))),
    Promise.all(methods.map((m) => load(GENERATION_TIMES, { method: m.name }))),
    from ? load(SOURCE_RUN, { id: from }) : null,
  ]);
  const failed = [...defaults, ...times].find((answer) => answer.error)?.error;
  if (failed) return <ErrorNotice error={failed} title="Model defaults cannot be read" />;
  const form: SubmitCatalogue = {
    benchmarks,
    models: models.map((m) => m.name),
    methods: methods.map((m) => ({ name: m.name, schema: m.parameterSchema as JsonSchema })),
    defaults: Object.fromEntries(
      models.map((model, i) => [model.name, Object.fromEntries(defaults[i]!.data!.methods.map((m) => [m.name, m.defaults as Record<string, unknown>]))]),
    ),
    secondsPerImage: Object.fromEntries(
      methods.map((method, i) => [
        method.name,
        Object.fromEntries(
          times[i]!.data!.models.map((m) => [m.name, m.generationTime ? { seconds: m.generationTime.secondsPerImage, images: m.generationTime.images } : null]),
        ),
      ]),
    ),
  };
  let start: FormStart | undefined;
  let fromProblem: string | undefined;
  if (source?.error) fromProblem = isMissing(source.error) ? `There is no run ${from} to start from.` : source.error.message;
  else if (source && !source.data.run) fromProblem = `There is no run ${from} to start from.`;
  else if (source?.data.run) {
    const run = source.data.run;
    const method = form.methods.find((m) => m.name === run.method);
    start = startFromRun(run, method ? paramFields(method.schema) : []);
  }
  return (
    <>
      <h1>Submit a run</h1>
      {session.viewer ? (
        <p className="muted">
          Runs are submitted for team <strong>{session.viewer.team.name}</strong>.
        </p>
      ) : (
        <p className="notice" data-testid="signin-needed">
          <Link href="/signin?next=/submit">Sign in</Link> with your team&apos;s API token to submit; the form below shows what a run takes.
        </p>
      )}
      {start && from && (
        <p className="notice" role="status" data-testid="started-from">
          Starting from run <Link href={`/runs/${from}`}>{from.slice(0, 8)}</Link>: its configuration is filled in; change what you want to try.
        </p>
      )}
      {fromProblem && <p className="notice warn">{fromProblem}</p>}
      <SubmitForm key={from ?? 'new'} catalogue={form} start={start} signedIn={Boolean(session.viewer)} />
    </>
  );
}
