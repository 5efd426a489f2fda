package uk.co.tradersflow.platform.db;

import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Properties;

/**
 * A parsed {@code postgresql://user[:password]@host[:port]/database[?sslmode=…&pgbouncer=true]}
 * URL, usable both by the reactive client and by JDBC (Flyway and the start-up bootstrap).
 * {@link #toString()} hides the password. {@code pgbouncer=true} names a PgBouncer in transaction
 * mode (before 1.21, which tracks no prepared statements): the reactive client then sends every
 * statement unnamed, parsed and executed in one round, instead of caching named ones per
 * connection, which another client's transaction would find on the server connection it is given.
 */
public record PgUrl(
        String host,
        int port,
        String database,
        String user,
        Optional<String> password,
        Optional<String> sslMode,
        boolean pgbouncer) {

    public static PgUrl parse(String url) {
        URI uri = URI.create(url.replaceFirst("^postgres(ql)?://", "postgresql://"));
        String user = "postgres";
        Optional<String> password = Optional.empty();
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = decode(parts[0]);
            if (parts.length == 2) {
                password = Optional.of(decode(parts[1]));
            }
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        Optional<String> sslMode = Optional.empty();
        boolean pgbouncer = false;
        if (uri.getQuery() != null) {
            for (String pair : uri.getQuery().split("&")) {
                if (pair.startsWith("sslmode=")) {
                    sslMode = Optional.of(pair.substring("sslmode=".length()));
                } else if (pair.startsWith("pgbouncer=")) {
                    pgbouncer = Boolean.parseBoolean(pair.substring("pgbouncer=".length()));
                }
            }
        }
        return new PgUrl(
                uri.getHost() == null ? "127.0.0.1" : uri.getHost(),
                uri.getPort() < 0 ? 5432 : uri.getPort(),
                path.isEmpty() ? user : path,
                user,
                password,
                sslMode,
                pgbouncer);
    }

    public PgUrl withDatabase(String name) {
        return new PgUrl(host, port, name, user, password, sslMode, pgbouncer);
    }

    public PgUrl withUser(String name) {
        return new PgUrl(host, port, database, name, password, sslMode, pgbouncer);
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    public Properties jdbcProperties() {
        Properties props = new Properties();
        props.setProperty("user", user);
        password.ifPresent(p -> props.setProperty("password", p));
        sslMode.ifPresent(m -> props.setProperty("sslmode", m));
        props.setProperty("ApplicationName", "tradersflow-admin");
        return props;
    }

    public PgConnectOptions connectOptions() {
        PgConnectOptions options = new PgConnectOptions()
                .setHost(host)
                .setPort(port)
                .setDatabase(database)
                .setUser(user)
                .setCachePreparedStatements(true)
                .setPreparedStatementCacheMaxSize(512)
                .setPipeliningLimit(256)
                .addProperty("application_name", "tradersflow");
        if (pgbouncer) {
            options.setUseLayer7Proxy(true).setCachePreparedStatements(false);
        }
        password.ifPresent(options::setPassword);
        sslMode.ifPresent(m -> options.setSslMode(io.vertx.pgclient.SslMode.of(m)));
        return options;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "postgresql://" + user + (password.isPresent() ? ":***" : "") + "@" + host + ":" + port + "/" + database;
    }
}
