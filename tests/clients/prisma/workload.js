// A workload for tests/real_clients_prisma.rs: many concurrent requests through the PrismaClient a
// Prisma 7 app builds from its rendered .env — model queries, and interactive transactions.
// usage: node workload.js ENV_FILE [setup] [KEY=VALUE ...]
//   setup              applies prisma/migrations/*/migration.sql through DIRECT_URL (as `prisma
//                      migrate deploy` would, which needs Prisma's schema engine: see
//                      no-schema-engine) and prints {"ok": <statements applied>, ...}
//   DB_…=VALUE         overrides that .env variable
//   statementNames=on  names the adapter's prepared statements (PrismaPg's statementNameGenerator)
// Prints {"ok": n, "errors": n, "first_error": "..."}.
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { PrismaClient } = require("@prisma/client");
const { PrismaPg } = require("@prisma/adapter-pg");
const { readEnv, expandUrl } = require("../node/env");

const [envFile, ...args] = process.argv.slice(2);
const env = readEnv(envFile);
const setup = args.includes("setup");
let statementNames = false;
for (const a of args.filter((a) => a.includes("="))) {
  const i = a.indexOf("=");
  const [k, v] = [a.slice(0, i), a.slice(i + 1)];
  if (k.startsWith("DB_")) env[k] = v;
  else if (k === "statementNames") statementNames = v === "on";
  else throw new Error(`unknown override ${k}`);
}

// What the rendered .env's comment says an app writes.
function client(url) {
  const options = statementNames
    ? { statementNameGenerator: (q) => "s" + crypto.createHash("sha1").update(q.sql).digest("hex").slice(0, 12) }
    : undefined;
  const adapter = new PrismaPg(
    {
      connectionString: expandUrl(url),
      max: Number(env.DB_POOL_MAX),
      idleTimeoutMillis: Number(env.DB_POOL_IDLE_TIMEOUT_MILLIS),
    },
    options,
  );
  return new PrismaClient({ adapter });
}

const result = { ok: 0, errors: 0, first_error: "" };
function failed(e) {
  result.errors++;
  // Prisma's message starts with the invocation it failed in; the database's own text follows.
  if (!result.first_error) result.first_error = `${e.code || ""} ${e.message}`.trim();
}

async function applyMigrations(prisma) {
  const dir = path.join(__dirname, "prisma/migrations");
  for (const m of fs.readdirSync(dir).filter((d) => fs.statSync(path.join(dir, d)).isDirectory()).sort()) {
    const sql = fs.readFileSync(path.join(dir, m, "migration.sql"), "utf8");
    for (const stmt of sql.split(";").map((s) => s.trim()).filter((s) => s.replace(/--.*$/gm, "").trim())) {
      await prisma.$executeRawUnsafe(stmt);
      result.ok++;
    }
  }
}

async function worker(prisma, n) {
  for (let r = 0; r < 30; r++) {
    try {
      if (r % 3 === 0) {
        // An interactive transaction: two statements on one connection, BEGIN … COMMIT.
        await prisma.$transaction(async (tx) => {
          await tx.item.create({ data: { n } });
          await tx.item.count({ where: { n } });
        });
      } else {
        await prisma.item.findMany({ where: { n: n + r }, take: 1 });
      }
      result.ok++;
    } catch (e) {
      failed(e);
    }
  }
}

async function main() {
  const prisma = client(setup ? env.DIRECT_URL : env.DATABASE_URL);
  try {
    if (setup) await applyMigrations(prisma);
    else await Promise.all(Array.from({ length: 40 }, (_, n) => worker(prisma, n)));
  } catch (e) {
    failed(e);
  } finally {
    await prisma.$disconnect();
  }
  console.log(JSON.stringify(result));
}
main();
