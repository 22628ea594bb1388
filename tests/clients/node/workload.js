// A workload for tests/real_clients.rs: many concurrent clients through the node-postgres Pool an
// app would build from its rendered .env.
// usage: node workload.js ENV_FILE [KEY=VALUE ...]   (overrides; `statement_timeout=5000` adds that
// Pool option, `?statement_timeout=5000` that DATABASE_URL query key). Prints {"ok": n, "errors": n,
// "first_error": "..."}.
const { Pool } = require("pg");
const { readEnv, expandUrl } = require("./env");

const [envFile, ...args] = process.argv.slice(2);
const env = readEnv(envFile);
const extra = {};
const query = [];
for (const a of args) {
  const i = a.indexOf("=");
  const [k, v] = [a.slice(0, i), a.slice(i + 1)];
  if (k.startsWith("DB_")) env[k] = v;
  else if (k.startsWith("?")) query.push(`${k.slice(1)}=${v}`);
  else extra[k] = Number.isNaN(Number(v)) ? v : Number(v);
}
const base = expandUrl(env.DATABASE_URL);
const url = query.length ? `${base}${base.includes("?") ? "&" : "?"}${query.join("&")}` : base;

const pool = new Pool({
  connectionString: url,
  max: Number(env.DB_POOL_MAX),
  min: Number(env.DB_POOL_MIN),
  idleTimeoutMillis: Number(env.DB_POOL_IDLE_TIMEOUT_MILLIS),
  connectionTimeoutMillis: Number(env.DB_POOL_CONNECTION_TIMEOUT_MILLIS),
  maxLifetimeSeconds: Number(env.DB_POOL_MAX_LIFETIME_SECONDS),
  ...extra,
});
pool.on("error", () => {});

const result = { ok: 0, errors: 0, first_error: "" };
async function client(n) {
  for (let r = 0; r < 30; r++) {
    try {
      await pool.query("select $1::int + 1 as x", [n + r]);
      result.ok++;
    } catch (e) {
      result.errors++;
      if (!result.first_error) result.first_error = `error: ${e.message}`;
    }
  }
}
Promise.all(Array.from({ length: 40 }, (_, n) => client(n)))
  .then(() => pool.end())
  .then(() => console.log(JSON.stringify(result)));
