-- AlterTable
ALTER TABLE "images" ADD COLUMN     "backward_passes" INTEGER,
ADD COLUMN     "device" TEXT,
ADD COLUMN     "unet_evaluations" INTEGER;

