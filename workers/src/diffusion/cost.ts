/**
 * What an image cost to make (docs/method.md §6, the manifest's `cost`): the U-Net evaluations (one
 * per image per forward pass: a classifier-free guidance pair is 2, a guided pass 1), the backward
 * passes (one per image per pass of a guided U-Net, which differentiates its loss with respect to the
 * latent) and the wall seconds. The engine counts every pass it runs, for every method, the baseline
 * included; passes a reference runs and discards are not run, so not counted.
 */

export interface ImageCost {
  unet_evaluations: number;
  backward_passes: number;
  /** wall seconds of the image's batch divided by its number of images */
  seconds: number;
}

/** Counts the passes of one batch, per image (by index into the batch). */
export class CostMeter {
  private readonly evaluations: number[];
  private readonly backward: number[];
  private readonly started = performance.now();

  constructor(readonly images: number) {
    this.evaluations = new Array<number>(images).fill(0);
    this.backward = new Array<number>(images).fill(0);
  }

  /** A forward pass of the plain U-Net over these images of the batch. */
  forward(images: readonly number[]): void {
    for (const b of images) this.evaluations[b]! += 1;
  }

  /** A pass of a guided U-Net over these images: a forward pass and the backward pass of its loss. */
  guided(images: readonly number[]): void {
    for (const b of images) {
      this.evaluations[b]! += 1;
      this.backward[b]! += 1;
    }
  }

  /** Each image's cost, the batch's wall time so far shared equally. */
  costs(): ImageCost[] {
    const seconds = (performance.now() - this.started) / 1000 / this.images;
    return this.evaluations.map((unet_evaluations, b) => ({ unet_evaluations, backward_passes: this.backward[b]!, seconds }));
  }
}

/** 0, 1, ..., n - 1: every image of a batch of n. */
export const allImages = (n: number): number[] => Array.from({ length: n }, (_, b) => b);
