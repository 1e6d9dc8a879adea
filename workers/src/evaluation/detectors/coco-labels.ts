/** COCO's 80 detection classes in COCO order, named as GenEval's object_names.txt names them. */
export const COCO_CLASSES = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'airplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports ball',
  'kite',
  'baseball bat',
  'baseball glove',
  'skateboard',
  'surfboard',
  'tennis racket',
  'bottle',
  'wine glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
  'chair',
  'couch',
  'potted plant',
  'bed',
  'dining table',
  'toilet',
  'tv',
  'laptop',
  'computer mouse',
  'tv remote',
  'computer keyboard',
  'cell phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy bear',
  'hair drier',
  'toothbrush',
] as const;

/**
 * Each class's COCO category id (1 to 90, with ten ids unused), in the same order. DETR's logits are
 * indexed by category id, so this is where a class sits among its 91 class logits.
 */
export const COCO_CATEGORY_IDS: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47,
  48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
];

/** VISOR's shorter names for three classes. */
const VISOR_NAMES: Readonly<Record<string, string>> = { mouse: 'computer mouse', remote: 'tv remote', keyboard: 'computer keyboard' };

/** Every name a COCO detector answers to: the 80 class names and VISOR's three short ones. */
export const COCO_LABELS: readonly string[] = [...COCO_CLASSES, ...Object.keys(VISOR_NAMES)];

/** The class's index in COCO order (0 to 79), or undefined for a name that is not a COCO class. */
export function cocoClassIndex(name: string): number | undefined {
  const index = (COCO_CLASSES as readonly string[]).indexOf(VISOR_NAMES[name] ?? name);
  return index < 0 ? undefined : index;
}
