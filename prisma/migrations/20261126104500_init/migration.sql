-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "model_family" AS ENUM ('sd1', 'sd2', 'sdxl', 'custom');

-- CreateEnum
CREATE TYPE "scoring_rules" AS ENUM ('visor', 't2i', 'geneval');

-- CreateEnum
CREATE TYPE "image_set_kind" AS ENUM ('UPLOADED', 'GENERATED');

-- CreateEnum
CREATE TYPE "run_kind" AS ENUM ('GENERATE_AND_EVALUATE', 'EVALUATE_ONLY');

-- CreateEnum
CREATE TYPE "run_status" AS ENUM ('QUEUED', 'GENERATING', 'EVALUATING', 'FINISHED', 'FAILED', 'CANCELLED');

-- CreateTable
CREATE TABLE "teams" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "teams_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "team_id" UUID NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "models" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "family" "model_family",
    "location" TEXT NOT NULL,
    "default_params" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "benchmarks" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "scoring" "scoring_rules" NOT NULL,
    "default_threshold" DOUBLE PRECISION NOT NULL,
    "default_images_per_prompt" INTEGER NOT NULL,

    CONSTRAINT "benchmarks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "metric_definitions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "benchmark_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "higher_is_better" BOOLEAN NOT NULL,
    "description" TEXT NOT NULL,
    "unit" TEXT NOT NULL,
    "ordinal" INTEGER NOT NULL,

    CONSTRAINT "metric_definitions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prompt_sets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "benchmark_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "prompt_sets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prompts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "prompt_set_id" UUID NOT NULL,
    "external_id" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "objects" TEXT[],
    "relation" TEXT,
    "metadata" JSONB NOT NULL,

    CONSTRAINT "prompts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "methods" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "param_schema" JSONB NOT NULL,

    CONSTRAINT "methods_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "method_configs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "method_id" UUID NOT NULL,
    "canonical_json" TEXT NOT NULL,
    "hash" CHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "method_configs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "image_sets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "kind" "image_set_kind" NOT NULL,
    "team_id" UUID NOT NULL,
    "artifact_prefix" TEXT NOT NULL,
    "image_count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "image_sets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "team_id" UUID NOT NULL,
    "kind" "run_kind" NOT NULL,
    "status" "run_status" NOT NULL DEFAULT 'QUEUED',
    "model_id" UUID,
    "method_config_id" UUID,
    "method_id" UUID,
    "prompt_set_id" UUID NOT NULL,
    "benchmark_id" UUID NOT NULL,
    "image_set_id" UUID,
    "rescored_from_id" UUID,
    "detector" TEXT NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "seed" INTEGER NOT NULL,
    "images_per_prompt" INTEGER NOT NULL,
    "prompt_limit" INTEGER,
    "scorer_version" TEXT,
    "prompts_total" INTEGER NOT NULL,
    "images_total" INTEGER NOT NULL,
    "images_generated" INTEGER NOT NULL DEFAULT 0,
    "images_evaluated" INTEGER NOT NULL DEFAULT 0,
    "chunks_total" INTEGER NOT NULL,
    "chunks_generated" INTEGER NOT NULL DEFAULT 0,
    "chunks_evaluated" INTEGER NOT NULL DEFAULT 0,
    "error_reason" TEXT,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "generating_at" TIMESTAMPTZ(3),
    "evaluating_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "failed_at" TIMESTAMPTZ(3),
    "cancelled_at" TIMESTAMPTZ(3),
    "execution_provider" TEXT,
    "device" TEXT,
    "code_version" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "run_id" UUID NOT NULL,
    "status" "run_status" NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reason" TEXT,

    CONSTRAINT "run_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "images" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "run_id" UUID NOT NULL,
    "prompt_id" UUID NOT NULL,
    "image_index" INTEGER NOT NULL,
    "artifact_key" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "generation_ms" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "images_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "detections" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "image_id" UUID NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "label" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "x0" DOUBLE PRECISION NOT NULL,
    "y0" DOUBLE PRECISION NOT NULL,
    "x1" DOUBLE PRECISION NOT NULL,
    "y1" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "detections_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "image_scores" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "image_id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "correct" BOOLEAN NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "reason" TEXT,
    "details" JSONB NOT NULL,

    CONSTRAINT "image_scores_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run_aggregates" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "run_id" UUID NOT NULL,
    "metric_key" TEXT NOT NULL,
    "relation" TEXT NOT NULL DEFAULT '',
    "value" DOUBLE PRECISION,
    "lower" DOUBLE PRECISION,
    "upper" DOUBLE PRECISION,

    CONSTRAINT "run_aggregates_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "teams_name_key" ON "teams"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_prefix_key" ON "api_tokens"("prefix");

-- CreateIndex
CREATE INDEX "api_tokens_team_id_idx" ON "api_tokens"("team_id");

-- CreateIndex
CREATE UNIQUE INDEX "models_name_key" ON "models"("name");

-- CreateIndex
CREATE UNIQUE INDEX "benchmarks_name_key" ON "benchmarks"("name");

-- CreateIndex
CREATE UNIQUE INDEX "metric_definitions_benchmark_id_key_key" ON "metric_definitions"("benchmark_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "prompt_sets_benchmark_id_name_key" ON "prompt_sets"("benchmark_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "prompts_prompt_set_id_external_id_key" ON "prompts"("prompt_set_id", "external_id");

-- CreateIndex
CREATE UNIQUE INDEX "methods_name_key" ON "methods"("name");

-- CreateIndex
CREATE UNIQUE INDEX "method_configs_hash_key" ON "method_configs"("hash");

-- CreateIndex
CREATE INDEX "method_configs_method_id_idx" ON "method_configs"("method_id");

-- CreateIndex
CREATE UNIQUE INDEX "image_sets_artifact_prefix_key" ON "image_sets"("artifact_prefix");

-- CreateIndex
CREATE INDEX "image_sets_team_id_created_at_idx" ON "image_sets"("team_id", "created_at");

-- CreateIndex
CREATE INDEX "runs_created_at_id_idx" ON "runs"("created_at", "id");

-- CreateIndex
CREATE INDEX "runs_status_created_at_id_idx" ON "runs"("status", "created_at", "id");

-- CreateIndex
CREATE INDEX "runs_team_id_created_at_id_idx" ON "runs"("team_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "runs_model_id_created_at_id_idx" ON "runs"("model_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "runs_benchmark_id_created_at_id_idx" ON "runs"("benchmark_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "runs_method_id_created_at_id_idx" ON "runs"("method_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "runs_method_config_id_status_idx" ON "runs"("method_config_id", "status");

-- CreateIndex
CREATE INDEX "runs_image_set_id_idx" ON "runs"("image_set_id");

-- CreateIndex
CREATE INDEX "runs_rescored_from_id_idx" ON "runs"("rescored_from_id");

-- CreateIndex
CREATE INDEX "run_events_run_id_at_idx" ON "run_events"("run_id", "at");

-- CreateIndex
CREATE INDEX "images_prompt_id_idx" ON "images"("prompt_id");

-- CreateIndex
CREATE UNIQUE INDEX "images_run_id_prompt_id_image_index_key" ON "images"("run_id", "prompt_id", "image_index");

-- CreateIndex
CREATE UNIQUE INDEX "detections_image_id_ordinal_key" ON "detections"("image_id", "ordinal");

-- CreateIndex
CREATE UNIQUE INDEX "image_scores_image_id_key" ON "image_scores"("image_id");

-- CreateIndex
CREATE INDEX "image_scores_run_id_correct_image_id_idx" ON "image_scores"("run_id", "correct", "image_id");

-- CreateIndex
CREATE INDEX "run_aggregates_metric_key_relation_value_idx" ON "run_aggregates"("metric_key", "relation", "value");

-- CreateIndex
CREATE UNIQUE INDEX "run_aggregates_run_id_metric_key_relation_key" ON "run_aggregates"("run_id", "metric_key", "relation");

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "metric_definitions" ADD CONSTRAINT "metric_definitions_benchmark_id_fkey" FOREIGN KEY ("benchmark_id") REFERENCES "benchmarks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompt_sets" ADD CONSTRAINT "prompt_sets_benchmark_id_fkey" FOREIGN KEY ("benchmark_id") REFERENCES "benchmarks"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompts" ADD CONSTRAINT "prompts_prompt_set_id_fkey" FOREIGN KEY ("prompt_set_id") REFERENCES "prompt_sets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "method_configs" ADD CONSTRAINT "method_configs_method_id_fkey" FOREIGN KEY ("method_id") REFERENCES "methods"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_sets" ADD CONSTRAINT "image_sets_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_method_config_id_fkey" FOREIGN KEY ("method_config_id") REFERENCES "method_configs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_method_id_fkey" FOREIGN KEY ("method_id") REFERENCES "methods"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_prompt_set_id_fkey" FOREIGN KEY ("prompt_set_id") REFERENCES "prompt_sets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_benchmark_id_fkey" FOREIGN KEY ("benchmark_id") REFERENCES "benchmarks"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_image_set_id_fkey" FOREIGN KEY ("image_set_id") REFERENCES "image_sets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_rescored_from_id_fkey" FOREIGN KEY ("rescored_from_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_events" ADD CONSTRAINT "run_events_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "images" ADD CONSTRAINT "images_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "images" ADD CONSTRAINT "images_prompt_id_fkey" FOREIGN KEY ("prompt_id") REFERENCES "prompts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "detections" ADD CONSTRAINT "detections_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_scores" ADD CONSTRAINT "image_scores_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_scores" ADD CONSTRAINT "image_scores_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_aggregates" ADD CONSTRAINT "run_aggregates_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

