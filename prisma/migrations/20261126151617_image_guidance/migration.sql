-- AlterTable
ALTER TABLE "images" ADD COLUMN     "guidance" JSONB;

