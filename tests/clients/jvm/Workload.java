// A workload for tests/real_clients_jvm.rs: a HikariCP pool over pgjdbc, configured the way a
// Spring Boot app binds its environment (SPRING_DATASOURCE_URL/_USERNAME/_PASSWORD and
// SPRING_DATASOURCE_HIKARI_* onto HikariConfig's properties), and many concurrent workers running
// the same PreparedStatements again and again (past pgjdbc's prepareThreshold).
//
// usage: java Workload ENV_FILE [NAME=VALUE | ?key=value ...]   or   java Workload --versions
//   NAME=VALUE replaces a variable of the .env; ?key=value sets a query key of the JDBC URL.
// Prints one JSON object: {"ok": n, "errors": n, "first_error": "...", "distinct_errors": [...]
// (statement names as "S_n"), "ignored": [variables HikariConfig has no property for]}.

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.jar.JarFile;
import org.postgresql.util.DriverInfo;

public final class Workload {
    static final String[] QUERIES = {
        "select ?::int + 1",
        "select ?::int * 2",
        "select count(*) from pg_class where relpages >= ?::int",
    };
    static final int WORKERS = 40;
    static final int ROUNDS = 30;
    static final String HIKARI = "SPRING_DATASOURCE_HIKARI_";

    public static void main(String[] args) throws Exception {
        if (args[0].equals("--versions")) {
            // The releases on the classpath, for the manifest's pgjdbc_version / hikaricp_version.
            String jar = HikariConfig.class.getProtectionDomain().getCodeSource().getLocation().getPath();
            String hikari;
            try (JarFile j = new JarFile(jar)) {
                hikari = j.getManifest().getMainAttributes().getValue("Bundle-Version");
            }
            System.out.println("{\"pgjdbc\": " + json(DriverInfo.DRIVER_VERSION)
                    + ", \"hikaricp\": " + json(hikari) + "}");
            return;
        }
        if (args[0].equals("--properties")) {
            properties(Path.of(args[1]), Path.of(args[2]));
            return;
        }
        Map<String, String> env = readEnv(Path.of(args[0]));
        String url = env.get("SPRING_DATASOURCE_URL");
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            int eq = a.indexOf('=');
            if (a.startsWith("?")) {
                url = withQueryKey(url, a.substring(1, eq), a.substring(eq + 1));
            } else if (a.startsWith("SPRING_DATASOURCE_URL=")) {
                url = a.substring(eq + 1);
            } else {
                env.put(a.substring(0, eq), a.substring(eq + 1));
            }
        }

        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(env.get("SPRING_DATASOURCE_USERNAME"));
        config.setPassword(env.get("SPRING_DATASOURCE_PASSWORD"));
        List<String> ignored = new ArrayList<>();
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith(HIKARI)) {
                String property = e.getKey().substring(HIKARI.length());
                if (!bind(config, property, e.getValue())) {
                    ignored.add(e.getKey());
                }
            }
        }

        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> first = new AtomicReference<>("");
        Set<String> seen = ConcurrentHashMap.newKeySet();
        HikariDataSource started;
        try {
            // HikariCP opens a first connection at start (as a Spring Boot app does at boot).
            started = new HikariDataSource(config);
        } catch (Exception ex) {
            String m = describe(ex);
            System.out.println("{\"ok\": 0, \"errors\": 1, \"first_error\": " + json(m)
                    + ", \"distinct_errors\": " + jsonList(List.of(m)) + ", \"ignored\": "
                    + jsonList(ignored) + "}");
            return;
        }
        try (HikariDataSource ds = started) {
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                final int n = w;
                Thread t = new Thread(() -> {
                    for (int r = 0; r < ROUNDS; r++) {
                        String sql = QUERIES[(n + r) % QUERIES.length];
                        try (Connection c = ds.getConnection();
                                PreparedStatement ps = c.prepareStatement(sql)) {
                            ps.setInt(1, r);
                            long got;
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                got = rs.getLong(1);
                            }
                            // A statement name prepared by another client runs its query instead.
                            long want = (n + r) % QUERIES.length == 0 ? r + 1 : r * 2;
                            if ((n + r) % QUERIES.length < 2 && got != want) {
                                throw new IllegalStateException("wrong result: " + sql + " with " + r
                                        + " gave " + got + ", not " + want);
                            }
                            ok.incrementAndGet();
                        } catch (Exception ex) {
                            errors.incrementAndGet();
                            String m = describe(ex);
                            first.compareAndSet("", m);
                            seen.add(ex instanceof IllegalStateException ? "wrong result" : m.replaceAll("\\s+", " ").replaceAll("\"S_[0-9]+\"", "\"S_n\""));
                        }
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
        }
        System.out.println("{\"ok\": " + ok.get() + ", \"errors\": " + errors.get()
                + ", \"first_error\": " + json(first.get()) + ", \"distinct_errors\": "
                + jsonList(new TreeSet<>(seen)) + ", \"ignored\": " + jsonList(ignored) + "}");
    }

    /**
     * The rendered application.properties read as Spring Boot reads it (java.util.Properties),
     * against the .env: every spring.datasource.* property must say what its SPRING_DATASOURCE_*
     * variable says (the password as the same `${VAR}` placeholder), and every hikari property must
     * bind to a HikariConfig setter. Prints {"differences": [...], "unbound": [...], "count": n}.
     */
    static void properties(Path props, Path envFile) throws Exception {
        Properties p = new Properties();
        try (var in = java.nio.file.Files.newBufferedReader(props)) {
            p.load(in);
        }
        Map<String, String> raw = new LinkedHashMap<>();
        for (String line : java.nio.file.Files.readAllLines(envFile)) {
            int eq = line.indexOf('=');
            if (!line.startsWith("#") && eq > 0) {
                raw.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        List<String> differences = new ArrayList<>();
        List<String> unbound = new ArrayList<>();
        for (String name : new TreeSet<>(p.stringPropertyNames())) {
            // spring.datasource.hikari.maximum-pool-size → SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE
            String var = name.replace("-", "").replace('.', '_').toUpperCase();
            String value = p.getProperty(name);
            if (!value.equals(raw.get(var))) {
                differences.add(name + "=" + value + " but " + var + "=" + raw.get(var));
            }
            String prefix = "spring.datasource.hikari.";
            if (name.startsWith(prefix)
                    && !bind(new HikariConfig(), name.substring(prefix.length()).replace("-", ""), value)) {
                unbound.add(name);
            }
        }
        System.out.println("{\"differences\": " + jsonList(differences) + ", \"unbound\": "
                + jsonList(unbound) + ", \"count\": " + p.size() + "}");
    }

    /** KEY=VALUE lines; `${VAR}` references expanded from the process environment. */
    static Map<String, String> readEnv(Path path) throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : Files.readAllLines(path)) {
            String l = line.strip();
            int eq = l.indexOf('=');
            if (l.isEmpty() || l.startsWith("#") || eq < 0) {
                continue;
            }
            String v = l.substring(eq + 1);
            for (Map.Entry<String, String> e : System.getenv().entrySet()) {
                v = v.replace("${" + e.getKey() + "}", e.getValue());
            }
            env.put(l.substring(0, eq), v);
        }
        return env;
    }

    static String withQueryKey(String url, String key, String value) {
        String kv = key + "=" + value;
        int q = url.indexOf('?');
        if (q < 0) {
            return url + "?" + kv;
        }
        List<String> parts = new ArrayList<>();
        boolean replaced = false;
        for (String p : url.substring(q + 1).split("&")) {
            if (p.startsWith(key + "=")) {
                parts.add(kv);
                replaced = true;
            } else if (!p.isEmpty()) {
                parts.add(p);
            }
        }
        if (!replaced) {
            parts.add(kv);
        }
        return url.substring(0, q) + "?" + String.join("&", parts);
    }

    /**
     * Spring Boot's relaxed binding of SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE: the HikariConfig
     * property whose name matches case-insensitively. False when HikariConfig has no such property
     * (Spring Boot would ignore it too).
     */
    static boolean bind(HikariConfig config, String property, String value) throws Exception {
        for (Method m : HikariConfig.class.getMethods()) {
            if (m.getParameterCount() != 1 || !m.getName().equalsIgnoreCase("set" + property)) {
                continue;
            }
            Class<?> t = m.getParameterTypes()[0];
            if (t == long.class) {
                m.invoke(config, Long.parseLong(value));
            } else if (t == int.class) {
                m.invoke(config, Integer.parseInt(value));
            } else if (t == boolean.class) {
                m.invoke(config, Boolean.parseBoolean(value));
            } else if (t == String.class) {
                m.invoke(config, value);
            } else {
                continue;
            }
            return true;
        }
        return false;
    }

    /** `Class: message`, and each cause's message that the message does not already carry. */
    static String describe(Throwable ex) {
        StringBuilder b = new StringBuilder(ex.getClass().getSimpleName() + ": " + ex.getMessage());
        for (Throwable c = ex.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && b.indexOf(c.getMessage()) < 0) {
                b.append(" (caused by ").append(c.getClass().getSimpleName()).append(": ")
                        .append(c.getMessage()).append(")");
            }
        }
        return b.toString();
    }

    static String jsonList(Iterable<String> items) {
        StringBuilder b = new StringBuilder("[");
        for (String s : items) {
            b.append(b.length() == 1 ? "" : ", ").append(json(s));
        }
        return b.append(']').toString();
    }

    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
