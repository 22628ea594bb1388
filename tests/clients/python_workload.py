"""A workload for tests/real_clients.rs: many concurrent clients running a few statements each,
through the pool an app of one kind would build from its rendered .env.

usage: python_workload.py KIND ENV_FILE [KEY=VALUE ...]   (overrides of the .env's values)
Prints one JSON object: {"ok": n, "errors": n, "first_error": "..."}.
"""

import asyncio
import json
import os
import sys
import threading
import urllib.parse


def read_env(path, overrides):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            env[k] = v
    env.update(overrides)
    # The password is a ${VAR} reference: expand it, URL-encoded.
    for k, v in list(env.items()):
        for var, val in os.environ.items():
            v = v.replace("${" + var + "}", urllib.parse.quote(val, safe=""))
        env[k] = v
    return env


QUERIES = [
    "select $1::int + 1",
    "select $1::int * 2",
    "select count(*) from pg_class where relpages >= $1::int",
]
CLIENTS = 40
ROUNDS = 30


async def run_asyncpg(env):
    import asyncpg

    pool = await asyncpg.create_pool(
        env["DATABASE_URL"],
        min_size=int(env["DB_POOL_MIN_SIZE"]),
        max_size=int(env["DB_POOL_MAX_SIZE"]),
        max_queries=int(env["DB_POOL_MAX_QUERIES"]),
        max_inactive_connection_lifetime=float(env["DB_POOL_MAX_INACTIVE_CONNECTION_LIFETIME"]),
        statement_cache_size=int(env["DB_STATEMENT_CACHE_SIZE"]),
        timeout=float(env["DB_CONNECT_TIMEOUT"]),
    )
    result = {"ok": 0, "errors": 0, "first_error": ""}

    async def client(n):
        for r in range(ROUNDS):
            try:
                async with pool.acquire() as conn:
                    async with conn.transaction():
                        await conn.fetchval(QUERIES[(n + r) % len(QUERIES)], r)
                result["ok"] += 1
            except Exception as e:  # noqa: BLE001 - every failure is counted
                result["errors"] += 1
                if not result["first_error"]:
                    result["first_error"] = f"{type(e).__name__}: {e}"

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    await pool.close()
    return result


def run_psycopg_pool(env):
    from psycopg_pool import ConnectionPool

    t = env["DB_PREPARE_THRESHOLD"]
    pool = ConnectionPool(
        env["DATABASE_URL"],
        min_size=int(env["DB_POOL_MIN_SIZE"]),
        max_size=int(env["DB_POOL_MAX_SIZE"]),
        timeout=float(env["DB_POOL_TIMEOUT"]),
        max_lifetime=float(env["DB_POOL_MAX_LIFETIME"]),
        max_idle=float(env["DB_POOL_MAX_IDLE"]),
        kwargs={"prepare_threshold": None if t == "none" else int(t)},
        check=ConnectionPool.check_connection if env["DB_POOL_CHECK"] == "true" else None,
        open=True,
    )
    result = {"ok": 0, "errors": 0, "first_error": ""}
    lock = threading.Lock()

    def client(n):
        for r in range(ROUNDS):
            try:
                with pool.connection() as conn:
                    conn.execute(QUERIES[(n + r) % len(QUERIES)].replace("$1", "%s"), (r,)).fetchone()
                with lock:
                    result["ok"] += 1
            except Exception as e:  # noqa: BLE001
                with lock:
                    result["errors"] += 1
                    if not result["first_error"]:
                        result["first_error"] = f"{type(e).__name__}: {e}"

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    pool.close()
    return result


def run_django(env, env_file, overrides):
    """Django configured as settings.py would be: DATABASES from the rendered
    database_settings.py beside the .env, which reads DATABASE_URL and the password variable."""
    import importlib.util

    import django
    from django.conf import settings

    os.environ.update(env)
    path = os.path.join(os.path.dirname(env_file), "database_settings.py")
    spec = importlib.util.spec_from_file_location("database_settings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    databases = module.DATABASES
    # An override stands for a settings.py that changed the rendered value.
    if "DB_DISABLE_SERVER_SIDE_CURSORS" in overrides:
        databases["default"]["DISABLE_SERVER_SIDE_CURSORS"] = (
            overrides["DB_DISABLE_SERVER_SIDE_CURSORS"] == "true"
        )
    if "DB_POOL" in overrides:
        databases["default"]["OPTIONS"]["pool"] = overrides["DB_POOL"] == "true"
    if "DB_CONN_MAX_AGE" in overrides:
        databases["default"]["CONN_MAX_AGE"] = int(overrides["DB_CONN_MAX_AGE"])
    migrate = overrides.get("MIGRATE") == "true"
    settings.configure(
        DATABASES=databases,
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"] if migrate else [],
    )
    django.setup()
    if migrate:
        from django.core.management import call_command

        try:
            call_command("migrate", verbosity=0)
            return {"ok": 1, "errors": 0, "first_error": ""}
        except Exception as e:  # noqa: BLE001
            return {"ok": 0, "errors": 1, "first_error": f"{type(e).__name__}: {e}"}
    from django.db import connection

    result = {"ok": 0, "errors": 0, "first_error": ""}
    lock = threading.Lock()

    def client(n):
        for r in range(ROUNDS // 3):
            try:
                # What QuerySet.iterator() runs (query.py, then SQLCompiler.execute_sql): a
                # chunked, server-side cursor unless DISABLE_SERVER_SIDE_CURSORS is set.
                chunked = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
                opened = connection.chunked_cursor() if chunked else connection.cursor()
                with opened as c:
                    c.execute("select g from generate_series(1, 2000) g")
                    total = 0
                    while True:
                        rows = c.fetchmany(100)
                        if not rows:
                            break
                        total += len(rows)
                assert total == 2000, total
                with lock:
                    result["ok"] += 1
            except Exception as e:  # noqa: BLE001
                with lock:
                    result["errors"] += 1
                    if not result["first_error"]:
                        result["first_error"] = f"{type(e).__module__}.{type(e).__name__}: {e}"
        connection.close()

    count = int(overrides.get("THREADS", DJANGO_THREADS))
    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return result


DJANGO_THREADS = 8


def main():
    kind, env_file = sys.argv[1], sys.argv[2]
    overrides = dict(a.split("=", 1) for a in sys.argv[3:])
    env = read_env(env_file, overrides)
    if kind == "asyncpg":
        result = asyncio.run(run_asyncpg(env))
    elif kind == "django":
        result = run_django(env, env_file, overrides)
    elif kind == "psycopg-pool":
        result = run_psycopg_pool(env)
    else:
        raise SystemExit(f"unknown kind {kind}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
