/**
 * The benchmarks' own result files, so that anyone can cross-check a score with the original scripts
 * (`score --official-out DIR`):
 * - VISOR: `results_<model>_<prompts>_<detector>_<threshold>.json`, the input of VISOR's visor.py: for each
 *   image "<unique_id>_<k>", the prompt objects detected (`classes`), the centre of each one's best box
 *   (`centroid`), how many were detected (`recall`), whether the image counts (`sra`, 0/1) and the prompt `text`.
 * - GenEval: `results.jsonl`, one line per scored image as evaluate_images.py writes it (filename in
 *   GenEval's `<prompt:05d>/samples/<k:04d>.png` layout; `metadata` and `details` as JSON strings).
 *   Images of unsupported tags are left out, since they were not judged.
 * - T2I-CompBench: `vqa_result.json` ([{question_id, answer}], answer = image score) and `mapping.json`
 *   ([{image, question_id}], images named `<prompt>_<question_id:06d>.png` as the reference names them).
 * Reasons are this project's wording, not the references'.
 */
import { join } from 'node:path';
import type { PromptSet } from '../prompts/load.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { boxCentre } from './box.ts';
import type { ImageDetections } from './detection.ts';
import { keptBoxes } from './kept-boxes.ts';
import type { ScoreResult } from './score.ts';
import { genevalObjects, type GenEvalImageResult } from './scorers/geneval.ts';
import type { T2IImageResult } from './scorers/t2i-compbench.ts';
import type { VisorImageResult } from './scorers/visor.ts';

export interface OfficialNames {
  /** the generating model, for VISOR's file name */
  model: string;
  /** the detector, for VISOR's file name */
  detector: string;
  /** the prompt set (VISOR names it after the prompt file) */
  prompts: string;
}

type OfficialFile = { name: string; content: string };

const imageKey = (prompt: number, image: number) => `${prompt}_${image}`;

function visorFiles(
  result: ScoreResult,
  set: Extract<PromptSet, { scoring: 'visor' }>,
  detections: Map<string, ImageDetections>,
  names: OfficialNames,
): OfficialFile[] {
  const promptById = new Map(set.prompts.map((p) => [p.id, p]));
  const records: Record<string, unknown> = {};
  for (const r of result.images as VisorImageResult[]) {
    const prompt = promptById.get(r.prompt)!;
    const found = prompt.objects
      .map((name) => ({ name, best: keptBoxes(detections.get(imageKey(r.prompt, r.image))!.detections, name, result.threshold)[0] }))
      .filter((o) => o.best !== undefined);
    records[imageKey(r.prompt, r.image)] = {
      classes: found.map((o) => o.name),
      centroid: found.map((o) => boxCentre(o.best.box)),
      recall: found.length,
      sra: Number(r.correct),
      text: prompt.text,
    };
  }
  return [{ name: `results_${names.model}_${names.prompts}_${names.detector}_${result.threshold}.json`, content: JSON.stringify(records, null, 2) }];
}

function genevalFiles(result: ScoreResult, set: Extract<PromptSet, { scoring: 'geneval' }>, detections: Map<string, ImageDetections>): OfficialFile[] {
  const promptById = new Map(set.prompts.map((p) => [p.id, p]));
  const lines = (result.images as GenEvalImageResult[]).map((r) => {
    const prompt = promptById.get(r.prompt)!;
    const threshold = r.tag === 'counting' ? result.counting_threshold! : result.threshold;
    const objects = genevalObjects(detections.get(imageKey(r.prompt, r.image))!.detections, threshold);
    const details = Object.fromEntries([...objects].map(([name, kept]) => [name, kept.map((d) => [...d.box, d.score])]));
    return JSON.stringify({
      filename: `${String(r.prompt).padStart(5, '0')}/samples/${String(r.image).padStart(4, '0')}.png`,
      tag: r.tag,
      prompt: prompt.text,
      correct: r.correct,
      reason: r.reason ?? '',
      metadata: JSON.stringify(prompt.raw),
      details: JSON.stringify(details),
    });
  });
  return [{ name: 'results.jsonl', content: lines.map((line) => `${line}\n`).join('') }];
}

function t2iFiles(result: ScoreResult, set: Extract<PromptSet, { scoring: 't2i' }>): OfficialFile[] {
  const promptById = new Map(set.prompts.map((p) => [p.id, p]));
  const images = result.images as T2IImageResult[];
  const vqa = images.map((r, questionId) => ({ question_id: questionId, answer: r.score }));
  const mapping = images.map((r, questionId) => ({
    image: `${promptById.get(r.prompt)!.text}_${String(questionId).padStart(6, '0')}.png`,
    question_id: questionId,
  }));
  return [
    { name: 'vqa_result.json', content: JSON.stringify(vqa) },
    { name: 'mapping.json', content: JSON.stringify(mapping) },
  ];
}

/** Writes the benchmark's own result files into `dir`; returns their paths. */
export function writeOfficialOutputs(dir: string, result: ScoreResult, set: PromptSet, images: readonly ImageDetections[], names: OfficialNames): string[] {
  const detections = new Map(images.map((image) => [imageKey(image.prompt, image.image), image]));
  const files =
    set.scoring === 'visor'
      ? visorFiles(result, set, detections, names)
      : set.scoring === 'geneval'
        ? genevalFiles(result, set, detections)
        : t2iFiles(result, set);
  return files.map(({ name, content }) => {
    const path = join(dir, name);
    writeFileAtomic(path, content);
    return path;
  });
}
