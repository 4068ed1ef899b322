#!/usr/bin/env bash
# updated_at with a Prisma-shaped schema: the migration.sql that `prisma
# migrate` writes for a model with `updatedAt DateTime @updatedAt` (a
# NOT NULL TIMESTAMP(3) with no default: Prisma's client fills it itself),
# applied by psql as `prisma migrate deploy` would.  Raw SQL then works:
# an INSERT without the column succeeds, and UPDATEs move it, in
# milliseconds as the column's precision says, and in UTC (what Prisma
# stores and reads back there) even from a session in New York.
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
DB=acctsec_ua_prisma
fresh_db $DB acctsec

mig=$ACCTSEC_TMP/prisma_migration.sql
cat >"$mig" <<'SQL'
-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "authorId" INTEGER NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
SQL
"${PSQL[@]}" -d $DB -1 -f "$mig"

out=$("${PSQL[@]}" -d $DB <<'SQL'
SELECT string_agg(tgrelid::regclass::text || ':' || pg_get_triggerdef(oid), E'\n' ORDER BY tgrelid::regclass::text)
FROM pg_trigger WHERE tgname = 'acctsec_updated_at';
-- what Prisma's client sends: updatedAt set explicitly (kept)
INSERT INTO "User" (email, "updatedAt") VALUES ('client@example.com', '2000-01-01 00:00:00.123');
-- raw SQL from another service: no updatedAt at all (NOT NULL, no default)
INSERT INTO "User" (email) VALUES ('raw@example.com');
INSERT INTO "Post" (title, "authorId") SELECT 'post by ' || email, id FROM "User";
SET TimeZone = 'America/New_York';
BEGIN;
UPDATE "User" SET name = 'renamed' WHERE email = 'client@example.com';
UPDATE "Post" SET title = upper(title);
SELECT 'client row: ' || ("updatedAt" = (now() AT TIME ZONE 'UTC')::timestamp(3)) FROM "User" WHERE email = 'client@example.com';
SELECT 'posts: ' || bool_and("updatedAt" = (now() AT TIME ZONE 'UTC')::timestamp(3)) FROM "Post";
SELECT 'milliseconds only: ' || bool_and(extract(microseconds FROM "updatedAt")::int % 1000 = 0) FROM "Post";
COMMIT;
SELECT 'raw insert filled: ' || ("updatedAt" IS NOT NULL) FROM "User" WHERE email = 'raw@example.com';
SQL
)
echo "$out"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
expected='"Post":CREATE TRIGGER acctsec_updated_at BEFORE INSERT OR UPDATE ON public."Post" FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('"'"'updatedAt'"'"')
"User":CREATE TRIGGER acctsec_updated_at BEFORE INSERT OR UPDATE ON public."User" FOR EACH ROW EXECUTE FUNCTION acctsec.set_updated_at('"'"'updatedAt'"'"')
client row: true
posts: true
milliseconds only: true
raw insert filled: true'
[ "$out" = "$expected" ] || { echo "FAIL: unexpected output"; exit 1; }
echo ok
