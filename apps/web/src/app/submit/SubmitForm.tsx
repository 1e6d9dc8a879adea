'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { storedToken, storeToken, submitRun } from '@/lib/mutations';
import { ApiError, type FieldError } from '@/lib/graphql';
import { fromText, paramFields, toText, type JsonSchema, type ParamField } from '@/lib/param-schema';

export interface SubmitCatalogue {
  benchmarks: { name: string; defaultThreshold: number; promptSets: { name: string; promptCount: number }[] }[];
  models: string[];
  methods: { name: string; schema: JsonSchema }[];
  /** defaults[model][method] */
  defaults: Record<string, Record<string, Record<string, unknown>>>;
}

type Kind = 'GENERATE_AND_EVALUATE' | 'EVALUATE_ONLY';

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
  const common = { id, name: field.name, placeholder: "the model's default", 'aria-invalid': invalid, 'aria-describedby': invalid ? `params.${field.name}-error` : undefined };
  switch (field.kind) {
    case 'choice':
      return (
        <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
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
      return <input {...common} type="number" step={field.integer ? 1 : 'any'} min={field.min} max={field.max} value={value} onChange={(e) => onChange(e.target.value)} />;
    case 'json':
      return <input {...common} value={value} onChange={(e) => onChange(e.target.value)} size={20} />;
  }
}

export function SubmitForm({ catalogue }: { catalogue: SubmitCatalogue }) {
  const router = useRouter();
  const [kind, setKind] = useState<Kind>('GENERATE_AND_EVALUATE');
  const [benchmark, setBenchmark] = useState(catalogue.benchmarks.find((b) => b.name === 'visor-shapes')?.name ?? catalogue.benchmarks[0]?.name ?? '');
  const sets = catalogue.benchmarks.find((b) => b.name === benchmark)?.promptSets ?? [];
  const [promptSet, setPromptSet] = useState(sets[0]?.name ?? '');
  const [model, setModel] = useState(catalogue.models.includes('bundled') ? 'bundled' : (catalogue.models[0] ?? ''));
  const [method, setMethod] = useState(catalogue.methods.find((m) => m.name === 'infsplign')?.name ?? catalogue.methods[0]?.name ?? '');
  const fields = useMemo(() => paramFields(catalogue.methods.find((m) => m.name === method)?.schema ?? {}), [catalogue.methods, method]);
  const defaults = catalogue.defaults[model]?.[method] ?? {};
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [basics, setBasics] = useState({ detector: 'shapes', threshold: '', seed: '42', imagesPerPrompt: '2', limit: '8', imageSet: '', force: false });
  const [token, setToken] = useState('');
  // After hydration: the server cannot know the tab's stored token.
  useEffect(() => setToken((current) => current || storedToken()), []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const valueOf = (field: ParamField) => edits[field.name] ?? toText(field, defaults[field.name]);
  const setBasic = (name: keyof typeof basics, value: string | boolean) => setBasics((b) => ({ ...b, [name]: value }));
  const optionalInt = (text: string) => (text.trim() === '' ? undefined : Number(text));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const params: Record<string, unknown> = {};
    if (kind === 'GENERATE_AND_EVALUATE') {
      for (const field of fields) {
        if (!(field.name in edits)) continue;
        const parsed = fromText(field, edits[field.name]!);
        if ('error' in parsed) found[`params.${field.name}`] = parsed.error;
        else params[field.name] = parsed.value;
      }
    }
    if (!token.trim()) found.token = 'paste an API token: mutations act for its team';
    if (Object.keys(found).length) {
      setErrors(found);
      return;
    }
    storeToken(token);
    const input = {
      kind,
      benchmark,
      promptSet,
      detector: basics.detector.trim(),
      threshold: basics.threshold.trim() === '' ? undefined : Number(basics.threshold),
      seed: optionalInt(basics.seed),
      imagesPerPrompt: optionalInt(basics.imagesPerPrompt),
      limit: optionalInt(basics.limit),
      force: basics.force || undefined,
      ...(kind === 'GENERATE_AND_EVALUATE' ? { model, method, params } : { imageSet: basics.imageSet.trim() }),
    };
    setBusy(true);
    setErrors({});
    try {
      const submitted = await submitRun(input, token.trim());
      router.push(`/runs/${submitted.run.id}${submitted.reused ? '?reused=1' : ''}`);
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError((err as Error).message, 'CLIENT');
      const byField: Record<string, string> = {};
      for (const fe of error.fieldErrors) byField[fieldOf(fe)] = [byField[fieldOf(fe)], fe.message].filter(Boolean).join('; ');
      if (error.code === 'UNAUTHENTICATED') byField.token = error.message;
      setErrors({ ...byField, form: error.message });
      setBusy(false);
    }
  };

  const basicInput = (name: 'detector' | 'threshold' | 'seed' | 'imagesPerPrompt' | 'limit' | 'imageSet', label: string, hint: string) => (
    <div className="field">
      <label htmlFor={`input-${name}`}>{label}</label>
      <input id={`input-${name}`} name={name} value={basics[name]} onChange={(e) => setBasic(name, e.target.value)} aria-invalid={Boolean(errors[name])} placeholder={hint} />
      <Problem errors={errors} name={name} />
    </div>
  );

  return (
    <form onSubmit={submit} aria-label="Submit a run" noValidate>
      {errors.form && (
        <div className="notice error" role="alert" data-testid="submit-error">
          <strong>The API refused the run.</strong> {errors.form}
        </div>
      )}
      <div className="columns">
        <fieldset>
          <legend>What to run</legend>
          <div className="field">
            <label htmlFor="input-kind">Kind</label>
            <select id="input-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
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
          {kind === 'GENERATE_AND_EVALUATE' ? (
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
          {basicInput('threshold', 'Detector threshold', "the benchmark's own")}
          {basicInput('seed', 'Seed', '42')}
          {basicInput('imagesPerPrompt', 'Images per prompt', "the benchmark's own")}
          {basicInput('limit', 'At most this many prompts', 'all')}
          <div className="field">
            <label>
              <input type="checkbox" checked={basics.force} onChange={(e) => setBasic('force', e.target.checked)} /> Run again even if an identical run finished
            </label>
          </div>
        </fieldset>
        {kind === 'GENERATE_AND_EVALUATE' && (
          <fieldset>
            <legend>
              {method} parameters (defaults for {model})
            </legend>
            {fields.map((field) => (
              <div className="field" key={field.name}>
                <label htmlFor={`param-${field.name}`}>
                  {field.name}
                  {field.name in edits && <span className="tag">changed</span>}
                </label>
                <ParamInput field={field} value={valueOf(field)} onChange={(v) => setEdits((e) => ({ ...e, [field.name]: v }))} invalid={Boolean(errors[`params.${field.name}`])} />
                <Problem errors={errors} name={`params.${field.name}`} />
              </div>
            ))}
          </fieldset>
        )}
      </div>
      <div className="field">
        <label htmlFor="input-token">API token</label>
        <input id="input-token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} size={48} aria-invalid={Boolean(errors.token)} />
        <Problem errors={errors} name="token" />
        <span className="muted"> kept in this browser tab only</span>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Submitting…' : 'Submit run'}
      </button>
    </form>
  );
}
