import { basename, extname } from 'node:path';
import { readDetectionsFile } from '../../evaluation/detections-file.ts';
import { writeOfficialOutputs } from '../../evaluation/official-formats.ts';
import { scoreImages } from '../../evaluation/score.ts';
import { loadPrompts } from '../../prompts/load.ts';
import { BENCHMARK_NAMES } from '../../prompts/types.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { parseThreshold, requireBenchmark, scoreSummary } from '../score-report.ts';
import { parseOptions, required, type Command } from '../command.ts';

const USAGE = `usage: infsplign score --benchmark ${BENCHMARK_NAMES.join('|')} --prompts FILE --detections FILE.jsonl --out RESULT.json
                      [--threshold X] [--official-out DIR] [--model NAME] [--detector NAME]

Scores stored detections by the benchmark's rules (docs/benchmarks.md).
  --prompts       the benchmark's prompt file (VISOR JSON, or a .ids.json list of unique_ids such as
                  json_files/infsplign/visor_subset_500.ids.json; T2I spatial_val.txt-style text
                  or JSON [{"prompt", "objects": [A, B]}]; GenEval evaluation_metadata.jsonl), as json_files/ ships them
  --detections    one JSON object a line: {"prompt": ID, "image": K, "width": W, "height": H,
                  "detections": [{"label": "dog", "score": 0.73, "box": [x0, y0, x1, y1]}]}
  --threshold     keep boxes with score > X (default: VISOR 0.1, T2I 0.1, GenEval 0.3; GenEval's
                  counting tag always uses 0.9)
  --out           RESULT.json: aggregates with 95% bootstrap intervals, and every image's result
  --official-out  also write the benchmark's own result files into DIR
  --model, --detector  names used in VISOR's official file name (default "model", "detector")`;

const OPTIONS = {
  benchmark: { type: 'string' },
  prompts: { type: 'string' },
  detections: { type: 'string' },
  threshold: { type: 'string' },
  out: { type: 'string' },
  'official-out': { type: 'string' },
  model: { type: 'string' },
  detector: { type: 'string' },
} as const;

export const scoreCommand: Command = {
  name: 'score',
  summary: "score stored detections by a benchmark's rules",
  usage: USAGE,
  async run(argv) {
    const { values } = parseOptions(argv, OPTIONS, USAGE);
    const benchmark = requireBenchmark(values, USAGE);
    const promptsPath = required(values, 'prompts', USAGE);
    const detectionsPath = required(values, 'detections', USAGE);
    const outPath = required(values, 'out', USAGE);
    const threshold = parseThreshold(values.threshold, USAGE);

    // Everything is read, validated and scored before the first file is written, so bad input leaves no output.
    const set = loadPrompts(benchmark, promptsPath);
    const images = readDetectionsFile(detectionsPath, new Set(set.prompts.map((p) => p.id)), promptsPath);
    const result = scoreImages(benchmark, set, images, { threshold });

    writeFileAtomic(outPath, `${JSON.stringify(result, null, 2)}\n`);
    const officialDir = values['official-out'];
    if (officialDir) {
      const names = { model: values.model ?? 'model', detector: values.detector ?? 'detector', prompts: basename(promptsPath, extname(promptsPath)) };
      writeOfficialOutputs(officialDir, result, set, images, names);
    }
    console.log(scoreSummary(result));
  },
};
