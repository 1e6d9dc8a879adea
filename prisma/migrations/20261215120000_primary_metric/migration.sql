-- AlterTable
ALTER TABLE "metric_definitions" ADD COLUMN     "is_primary" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "min_images_per_prompt" INTEGER;

