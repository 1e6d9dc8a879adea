import type { Metadata } from 'next';
import { ErrorNotice } from '@/components/ErrorNotice';
import { load } from '@/lib/api';
import type { JsonSchema } from '@/lib/param-schema';
import { SubmitForm, type SubmitCatalogue } from './SubmitForm';

export const metadata: Metadata = { title: 'Submit a run' };

const CATALOGUE = /* GraphQL */ `
  query SubmitCatalogue {
    benchmarks { name defaultThreshold promptSets { name promptCount } }
    models { name family }
    methods { name parameterSchema }
  }
`;

interface Catalogue {
  benchmarks: SubmitCatalogue['benchmarks'];
  models: { name: string; family: string | null }[];
  methods: { name: string; parameterSchema: JsonSchema }[];
}

/** Every method's defaults for every model, in one request (alias d<i> for the i-th model). */
function defaultsQuery(models: string[]): string {
  return `query Defaults { ${models.map((model, i) => `d${i}: methods { name defaults(model: ${JSON.stringify(model)}) }`).join('\n')} }`;
}

export default async function SubmitPage() {
  const catalogue = await load<Catalogue>(CATALOGUE);
  if (catalogue.error) return <ErrorNotice error={catalogue.error} title="The submit form needs the API" />;
  const { benchmarks, models, methods } = catalogue.data;
  const defaults: SubmitCatalogue['defaults'] = {};
  if (models.length > 0) {
    const answer = await load<Record<string, { name: string; defaults: Record<string, unknown> }[]>>(defaultsQuery(models.map((m) => m.name)));
    if (answer.error) return <ErrorNotice error={answer.error} title="Model defaults cannot be read" />;
    models.forEach((model, i) => {
      defaults[model.name] = Object.fromEntries(answer.data[`d${i}`]!.map((m) => [m.name, m.defaults]));
    });
  }
  return (
    <>
      <h1>Submit a run</h1>
      <p className="muted">
        Mutations act for the team of the API token you paste. Make one with <code>npm run token -- --team NAME</code>.
      </p>
      <SubmitForm catalogue={{ benchmarks, models: models.map((m) => m.name), methods: methods.map((m) => ({ name: m.name, schema: m.parameterSchema })), defaults }} />
    </>
  );
}
