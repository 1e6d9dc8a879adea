import { DETECTOR_SPECS } from '../../evaluation/detectors/detector.ts';
import { evaluateImageFolder } from '../../evaluation/evaluate-folder.ts';
import { formatDetectionsFile } from '../../evaluation/run-detector.ts';
import { DEFAULT_THRESHOLDS } from '../../evaluation/thresholds.ts';
import { loadPrompts } from '../../prompts/load.ts';
import { BENCHMARK_NAMES } from '../../prompts/types.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { parseOptions, required, type Command } from '../command.ts';
import { parseThreshold, requireBenchmark, scoreSummary } from '../score-report.ts';

const USAGE = `usage: infsplign evaluate --benchmark ${BENCHMARK_NAMES.join('|')} --prompts FILE --images DIR
                         --detector ${DETECTOR_SPECS.join('|')} --out RESULT.json
                         [--threshold X] [--detections-out FILE.jsonl]

Runs a detector over generated images, then scores them as \`score\` does (same RESULT.json, plus
the detector's name).
  --prompts         the benchmark's prompt file, as for \`score\`
  --images          a folder of PNGs named {ID}_{K}.png: image K (0, 1, ...) of prompt ID, any number
                    per prompt. Other files are ignored; a .png named otherwise is an error.
  --detector        shapes: the Shapes world's detector (VISOR-Shapes)
                    owlvit:PATH: an OWL-ViT ONNX export (folder with model.onnx and tokenizer files)
                    coco:PATH: a DETR- or YOLO-style COCO detector's ONNX file or folder
  --threshold       keep boxes with score > X (default: the benchmark's own, as for \`score\`);
                    the detector reports only boxes above it
  --out             RESULT.json
  --detections-out  also write what the detector found, in \`score --detections\` format`;

const OPTIONS = {
  benchmark: { type: 'string' },
  prompts: { type: 'string' },
  images: { type: 'string' },
  detector: { type: 'string' },
  threshold: { type: 'string' },
  out: { type: 'string' },
  'detections-out': { type: 'string' },
} as const;

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'run a detector over generated images and score them',
  usage: USAGE,
  async run(argv) {
    const { values } = parseOptions(argv, OPTIONS, USAGE);
    const benchmark = requireBenchmark(values, USAGE);
    const promptsPath = required(values, 'prompts', USAGE);
    const imagesDir = required(values, 'images', USAGE);
    const detectorSpec = required(values, 'detector', USAGE);
    const outPath = required(values, 'out', USAGE);
    const threshold = parseThreshold(values.threshold, USAGE) ?? DEFAULT_THRESHOLDS[benchmark];

    // Everything is read, detected and scored before the first file is written, so bad input leaves no output.
    const { scored, detections, detector } = await evaluateImageFolder({
      benchmark,
      set: loadPrompts(benchmark, promptsPath),
      promptsSource: promptsPath,
      imagesDir,
      detectorSpec,
      threshold,
      onProgress: (done, total) => {
        if (done % 100 === 0 && done < total) console.error(`evaluate: ${done} of ${total} images`);
      },
    });

    const detectionsPath = values['detections-out'];
    if (detectionsPath) writeFileAtomic(detectionsPath, formatDetectionsFile(detections));
    // The images last, as `score` writes them, so that a person opening the file sees the figures first.
    const { images: imageResults, ...figures } = scored;
    writeFileAtomic(outPath, `${JSON.stringify({ ...figures, detector, images: imageResults }, null, 2)}\n`);
    console.log(scoreSummary(scored));
  },
};
