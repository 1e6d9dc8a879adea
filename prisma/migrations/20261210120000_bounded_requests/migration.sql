-- AlterTable
ALTER TABLE "api_tokens" ADD COLUMN     "expires_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "artifacts_deleted_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "uploads" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "team_id" UUID NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "uploads_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "uploads_prefix_key" ON "uploads"("prefix");

-- CreateIndex
CREATE INDEX "uploads_team_id_created_at_idx" ON "uploads"("team_id", "created_at");

-- AddForeignKey
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Tokens are now checked by SHA-256 (their secrets are 256 random bits). A scrypt hash cannot be
-- turned into one without the token, which is never stored: tokens made before this migration are
-- revoked, and `npm run token` or createApiToken makes new ones. The API's answer to such a token
-- says so (apps/api/src/auth/tokens.ts).
UPDATE "api_tokens" SET "revoked_at" = CURRENT_TIMESTAMP WHERE "secret_hash" LIKE 'scrypt$%' AND "revoked_at" IS NULL;
