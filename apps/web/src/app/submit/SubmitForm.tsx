'use client';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useMemo, useState, type FormEvent } from 'react';
import type { RunKind } from '@/gql/graphql';
import { submitRuns, type Submitted } from '@/lib/actions';
import type { FieldError } from '@/lib/graphql';
import { useHydrated } from '@/lib/hydrated';
import { describeField, isMain, paramFields, sweepable, sweepValues, toText, type JsonSchema, type ParamField } from '@/lib/param-schema';
import { editedParams, estimate, formatDuration, submitInput, type Basics, type FormStart } from '@/lib/submit-form';

export interface SubmitCatalogue {
  benchmarks: { name: string; defaultThreshold: number; defaultImagesPerPrompt: number; promptSets: { name: string; promptCount: number }[] }[];
  models: string[];
  methods: { name: string; schema: JsonSchema }[];
  /** defaults[model][method] */
  defaults: Record<string, Record<string, Record<string, unknown>>>;
  /** secondsPerImage[method][model]: the mean over the model's finished runs of the method, and how many images it is over; null when none is recorded */
  secondsPerImage: Record<string, Record<string, { seconds: number; images: number } | null>>;
}

/** A field error's place in the form: the parameter or input field it names. */
function fieldOf(error: FieldError): string {
  const names = error.path.filter((p): p is string => typeof p === 'string' && p !== 'input');
  return names[0] === 'params' && names[1] ? `params.${names[1]}` : (names[0] ?? 'form');
}

function Problem({ errors, name }: { errors: Record<string, string>; name: string }) {
  const message = errors[name];
  return message ? (
    <span className="field-error" id={`${name}-error`} role="alert">
      {message}
    </span>
  ) : null;
}

function ParamInput({ field, value, onChange, invalid }: { field: ParamField; value: string; onChange: (v: string) => void; invalid: boolean }) {
  const id = `param-${field.name}`;
  const described = [`params.${field.name}-help`, invalid ? `params.${field.name}-error` : ''].filter(Boolean).join(' ');
  const common = { id, name: field.name, placeholder: "the model's default", 'aria-invalid': invalid, 'aria-describedby': described };
  switch (field.kind) {
    case 'choice':
      return (
        <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
          {value === '' && <option value="">the model&apos;s default</option>}
          {field.options.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      );
    case 'boolean':
      return <input {...common} type="checkbox" checked={value === 'true'} onChange={(e) => onChange(String(e.target.checked))} />;
    case 'lines':
      return <textarea {...common} rows={Math.max(2, value.split('\n').length)} cols={48} value={value} onChange={(e) => onChange(e.target.value)} />;
    case 'number':
      return (
        <input
          {...common}
          type="number"
          step={field.integer ? 1 : 'any'}
          min={field.min}
          max={field.max}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case 'numbers':
    case 'json':
      return <input {...common} value={value} onChange={(e) => onChange(e.target.value)} size={20} />;
  }
}

const DEFAULT_BASICS: Basics = { detector: 'shapes', threshold: '', seed: '42', imagesPerPrompt: '2', limit: '8', imageSet: '', force: false };

/**
 * The submit form: what to run, then the method's parameters (those that matter first, the advanced
 * ones folded away), each with its description and bounds and checked here before the API checks it;
 * an optional sweep (one parameter, several values: one run per value); the size and time it will take.
 * Submitting is a Server Action acting for the signed-in team.
 */
export function SubmitForm({ catalogue, start, signedIn }: { catalogue: SubmitCatalogue; start?: FormStart; signedIn: boolean }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [kind, setKind] = useState<RunKind>(start?.kind ?? 'GENERATE_AND_EVALUATE');
  const [benchmark, setBenchmark] = useState(
    start?.benchmark ?? catalogue.benchmarks.find((b) => b.name === 'visor-shapes')?.name ?? catalogue.benchmarks[0]?.name ?? '',
  );
  const benchmarkInfo = catalogue.benchmarks.find((b) => b.name === benchmark);
  const sets = benchmarkInfo?.promptSets ?? [];
  const [promptSet, setPromptSet] = useState(start?.promptSet ?? sets[0]?.name ?? '');
  const [model, setModel] = useState(start?.model || (catalogue.models.includes('bundled') ? 'bundled' : (catalogue.models[0] ?? '')));
  const [method, setMethod] = useState(start?.method || (catalogue.methods.find((m) => m.name === 'infsplign')?.name ?? catalogue.methods[0]?.name ?? ''));
  const fields = useMemo(() => paramFields(catalogue.methods.find((m) => m.name === method)?.schema ?? {}), [catalogue.methods, method]);
  const defaults = catalogue.defaults[model]?.[method] ?? {};
  const [edits, setEdits] = useState<Record<string, string>>(start?.edits ?? {});
  const [basics, setBasics] = useState<Basics>(start?.basics ?? DEFAULT_BASICS);
  const [sweep, setSweep] = useState({ param: '', values: '' });
  const [apiErrors, setApiErrors] = useState<Record<string, string>>({});
  const [submitted, setSubmitted] = useState<Submitted[]>([]);
  const [busy, setBusy] = useState(false);

  const generating = kind === 'GENERATE_AND_EVALUATE';
  const sweepField = generating ? fields.find((f) => f.name === sweep.param) : undefined;
  // The browser's own checks, live: each changed parameter against its schema, the sweep's values.
  const checked = editedParams(fields, generating ? edits : {});
  const swept = sweepField ? sweepValues(sweepField, sweep.values) : null;
  const localErrors: Record<string, string> = Object.fromEntries(Object.entries(checked.errors).map(([name, message]) => [`params.${name}`, message]));
  if (swept && 'error' in swept) localErrors.sweep = swept.error;
  const errors = { ...apiErrors, ...localErrors };
  const runs = swept && 'values' in swept ? swept.values.length : 1;

  const valueOf = (field: ParamField) => edits[field.name] ?? toText(field, defaults[field.name]);
  const setBasic = (name: keyof Basics, value: string | boolean) => setBasics((b) => ({ ...b, [name]: value }));
  const editParam = (name: string, value: string) => {
    setEdits((e) => ({ ...e, [name]: value }));
    // What the API said was about the values it was sent.
    setApiErrors(({ [`params.${name}`]: _field, form: _form, ...rest }) => rest);
  };

  const time = generating ? (catalogue.secondsPerImage[method]?.[model] ?? null) : null;
  const size = estimate({
    promptCount: sets.find((s) => s.name === promptSet)?.promptCount ?? 0,
    limit: basics.limit,
    imagesPerPrompt: basics.imagesPerPrompt,
    defaultImagesPerPrompt: benchmarkInfo?.defaultImagesPerPrompt ?? 1,
    runs,
    secondsPerImage: time?.seconds ?? null,
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (Object.keys(localErrors).length > 0 || (sweep.param && !swept)) return;
    const form = { kind, benchmark, promptSet, model, method, basics };
    const values = swept && 'values' in swept ? swept.values : [undefined];
    const inputs = values.map((value) =>
      submitInput(form, sweepField && value !== undefined ? { ...checked.params, [sweepField.name]: value } : checked.params),
    );
    setBusy(true);
    setApiErrors({});
    setSubmitted([]);
    const answer = await submitRuns(inputs);
    setBusy(false);
    if (answer.error) {
      const byField: Record<string, string> = {};
      for (const fe of answer.error.fieldErrors) byField[fieldOf(fe)] = [byField[fieldOf(fe)], fe.message].filter(Boolean).join('; ');
      const which = values.length > 1 ? `${sweep.param} = ${JSON.stringify(values[answer.error.index])}: ` : '';
      setApiErrors({ ...byField, form: `${which}${answer.error.message}` });
      setSubmitted(answer.submitted);
      return;
    }
    const [only] = answer.submitted;
    if (answer.submitted.length === 1 && only) router.push(`/runs/${only.id}${only.reused ? '?reused=1' : ''}`);
    else setSubmitted(answer.submitted);
  };

  const basicInput = (name: 'detector' | 'threshold' | 'seed' | 'imagesPerPrompt' | 'limit' | 'imageSet', label: string, hint: string) => (
    <div className="field">
      <label htmlFor={`input-${name}`}>{label}</label>
      <input
        id={`input-${name}`}
        name={name}
        value={basics[name]}
        onChange={(e) => setBasic(name, e.target.value)}
        aria-invalid={Boolean(errors[name])}
        placeholder={hint}
      />
      <Problem errors={errors} name={name} />
    </div>
  );

  const paramField = (field: ParamField) => {
    const accepts = describeField(field);
    return (
      <div className="field" key={field.name}>
        <label htmlFor={`param-${field.name}`}>
          {field.name}
          {field.name in edits && edits[field.name] !== toText(field, defaults[field.name]) && <span className="tag">changed</span>}
        </label>
        <ParamInput field={field} value={valueOf(field)} onChange={(v) => editParam(field.name, v)} invalid={Boolean(errors[`params.${field.name}`])} />
        <span className="param-help" id={`params.${field.name}-help`}>
          {[field.description, accepts].filter(Boolean).join(' · ')}
        </span>
        <Problem errors={errors} name={`params.${field.name}`} />
      </div>
    );
  };
  const main = fields.filter(isMain);
  const advanced = fields.filter((f) => !isMain(f));
  const advancedOpen = advanced.some((f) => f.name in edits || errors[`params.${f.name}`]);

  return (
    <form onSubmit={submit} aria-label="Submit a run" noValidate>
      {/* Until hydrated, nothing can be typed or submitted: only this script submits the form. */}
      <fieldset className="bare" disabled={!hydrated}>
        {errors.form && (
          <div className="notice error" role="alert" data-testid="submit-error">
            <strong>The API refused the run.</strong> {errors.form}
          </div>
        )}
        {submitted.length > 0 && (
          <div className="notice" role="status" data-testid="submitted-runs">
            {submitted.length} run{submitted.length === 1 ? '' : 's'} submitted:{' '}
            {submitted.map((s, i) => (
              <span key={s.id}>
                {i > 0 && ', '}
                <Link href={`/runs/${s.id}`}>{s.id.slice(0, 8)}</Link>
                {s.reused && ' (identical run reused)'}
              </span>
            ))}
            . <Link href={`/sweep?benchmark=${benchmark}${sweep.param ? `&param=${sweep.param}` : ''}`}>The sweep</Link> shows them once they finish.
          </div>
        )}
        <div className="columns">
          <fieldset>
            <legend>What to run</legend>
            <div className="field">
              <label htmlFor="input-kind">Kind</label>
              <select id="input-kind" value={kind} onChange={(e) => setKind(e.target.value as RunKind)}>
                <option value="GENERATE_AND_EVALUATE">generate and evaluate</option>
                <option value="EVALUATE_ONLY">evaluate an uploaded image set</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="input-benchmark">Benchmark</label>
              <select
                id="input-benchmark"
                value={benchmark}
                onChange={(e) => {
                  setBenchmark(e.target.value);
                  setPromptSet(catalogue.benchmarks.find((b) => b.name === e.target.value)?.promptSets[0]?.name ?? '');
                }}
              >
                {catalogue.benchmarks.map((b) => (
                  <option key={b.name}>{b.name}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="input-promptSet">Prompt set</label>
              <select id="input-promptSet" value={promptSet} onChange={(e) => setPromptSet(e.target.value)}>
                {sets.map((s) => (
                  <option key={s.name} value={s.name}>
                    {s.name} ({s.promptCount} prompts)
                  </option>
                ))}
              </select>
              <Problem errors={errors} name="promptSet" />
            </div>
            {generating ? (
              <>
                <div className="field">
                  <label htmlFor="input-model">Model</label>
                  <select id="input-model" value={model} onChange={(e) => setModel(e.target.value)}>
                    {catalogue.models.map((m) => (
                      <option key={m}>{m}</option>
                    ))}
                  </select>
                  <Problem errors={errors} name="model" />
                </div>
                <div className="field">
                  <label htmlFor="input-method">Method</label>
                  <select
                    id="input-method"
                    value={method}
                    onChange={(e) => {
                      setMethod(e.target.value);
                      setEdits({});
                      setSweep({ param: '', values: '' });
                    }}
                  >
                    {catalogue.methods.map((m) => (
                      <option key={m.name}>{m.name}</option>
                    ))}
                  </select>
                  <Problem errors={errors} name="method" />
                </div>
              </>
            ) : (
              basicInput('imageSet', 'Image set id', 'from registerImageSet')
            )}
            {basicInput('detector', 'Detector', "shapes, or a name in the workers' models/detectors.json")}
            {basicInput('threshold', 'Detector threshold', `the benchmark's own (${benchmarkInfo?.defaultThreshold ?? '?'})`)}
            {basicInput('seed', 'Seed', '42')}
            {basicInput('imagesPerPrompt', 'Images per prompt', `the benchmark's own (${benchmarkInfo?.defaultImagesPerPrompt ?? '?'})`)}
            {basicInput('limit', 'At most this many prompts', 'all')}
            <div className="field">
              <label>
                <input type="checkbox" checked={basics.force} onChange={(e) => setBasic('force', e.target.checked)} /> Run again even if an identical run
                finished
              </label>
            </div>
          </fieldset>
          {generating && (
            <fieldset className="params">
              <legend>
                {method} parameters (defaults for {model})
              </legend>
              {main.map(paramField)}
              {advanced.length > 0 && (
                <details open={advancedOpen || undefined} data-testid="advanced-params">
                  <summary>Advanced parameters ({advanced.length})</summary>
                  {advanced.map(paramField)}
                </details>
              )}
            </fieldset>
          )}
        </div>
        {generating && (
          <fieldset className="sweep">
            <legend>Sweep (optional): one run per value</legend>
            <div className="field">
              <label htmlFor="sweep-param">Parameter</label>
              <select id="sweep-param" value={sweep.param} onChange={(e) => setSweep({ ...sweep, param: e.target.value })}>
                <option value="">no sweep: one run</option>
                {fields.filter(sweepable).map((f) => (
                  <option key={f.name}>{f.name}</option>
                ))}
              </select>
            </div>
            {sweep.param && (
              <div className="field">
                <label htmlFor="sweep-values">Values</label>
                <input
                  id="sweep-values"
                  value={sweep.values}
                  onChange={(e) => setSweep({ ...sweep, values: e.target.value })}
                  placeholder="for example 30, 60, 90"
                  size={30}
                  aria-invalid={Boolean(errors.sweep)}
                  aria-describedby="sweep-help"
                />
                <span className="param-help" id="sweep-help">
                  separated by commas; each replaces {sweep.param} above{sweepField && describeField(sweepField) ? ` (${describeField(sweepField)})` : ''}
                </span>
                <Problem errors={errors} name="sweep" />
              </div>
            )}
          </fieldset>
        )}
        <p className="estimate" data-testid="estimate" aria-live="polite">
          {size ? (
            <>
              {runs > 1 ? `${runs} runs, ` : ''}
              <strong>{size.images.toLocaleString('en')} images</strong>
              {generating &&
                (size.seconds !== null && time
                  ? `, about ${formatDuration(size.seconds)} of generation at ${time.seconds.toFixed(2)} s per image (the mean over ${time.images.toLocaleString('en')} images of ${model}'s finished ${method} runs), plus scoring`
                  : `; no estimate yet of the time: ${model} has no finished ${method} run with recorded times`)}
              .
            </>
          ) : (
            'Enter whole numbers of prompts and images per prompt to see the size.'
          )}
        </p>
        <button type="submit" disabled={busy || !signedIn} title={signedIn ? undefined : 'Sign in first'}>
          {busy ? 'Submitting…' : runs > 1 ? `Submit ${runs} runs` : 'Submit run'}
        </button>
        {!signedIn && (
          <span className="muted">
            {' '}
            <Link href="/signin?next=/submit">Sign in</Link> to submit.
          </span>
        )}
      </fieldset>
    </form>
  );
}
