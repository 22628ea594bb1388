// The rendered .env as an app reads it, for the node workloads (workload.js, ../prisma/workload.js).
const fs = require("fs");

// KEY=VALUE lines; comments and blank lines skipped.
function readEnv(file) {
  const env = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#") || !t.includes("=")) continue;
    const i = t.indexOf("=");
    env[t.slice(0, i)] = t.slice(i + 1);
  }
  return env;
}

// A URL whose password is a ${VAR} reference, with VAR's value from the environment, URL-encoded.
function expandUrl(url) {
  return url.replace(/\$\{(\w+)\}/g, (_, v) => encodeURIComponent(process.env[v] || ""));
}

module.exports = { readEnv, expandUrl };
