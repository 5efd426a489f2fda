package uk.co.tradersflow.ops;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.auth.AccountSuspension;
import uk.co.tradersflow.auth.SessionTermination;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.config.ConfigException;
import uk.co.tradersflow.config.ConfigLoader;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.incident.IncidentNoticeService;
import uk.co.tradersflow.platform.bus.LocalRecordCodec;
import uk.co.tradersflow.platform.bus.Signal;
import uk.co.tradersflow.platform.crypto.Sha256;
import uk.co.tradersflow.platform.db.PgUrl;
import uk.co.tradersflow.platform.security.Actor;
import uk.co.tradersflow.platform.security.ActorType;

/**
 * The incident levers an operator runs as {@code java -jar tradersflow.jar <command>} (see
 * docs/incident-response.md), with the server's own configuration:
 * <pre>
 * suspend-account --account ID --reason TEXT [--resume]
 * end-sessions --user EMAIL | --all
 * rotate-jwt-key [--no-overlap]
 * incident-notice (--accounts ID,ID… | --all) --subject TEXT --body-file FILE [--incident ID] [--per-minute N]
 * </pre>
 * Database commands use the admin login ({@code TF_DB_ADMIN_URL}), as {@code migrate} does: they
 * act across accounts on purpose. Each prints one summary line; exit 0 done, 2 bad usage or
 * settings, 1 failed.
 */
public final class OpsCommands {
    public static final Set<String> COMMANDS =
            Set.of("suspend-account", "end-sessions", "rotate-jwt-key", "incident-notice");
    private static final int DEFAULT_PER_MINUTE = 120;

    private OpsCommands() {}

    public static int run(
            String[] args, Map<String, String> env, Optional<Path> configFile, PrintStream out, PrintStream err) {
        try {
            Map<String, String> options = options(Arrays.copyOfRange(args, 1, args.length));
            AppConfig config = ConfigLoader.load(env, configFile);
            return switch (args[0]) {
                case "suspend-account" -> suspendAccount(config, options, out);
                case "end-sessions" -> endSessions(config, options, out);
                case "rotate-jwt-key" -> rotateJwtKey(config, env, options, out);
                case "incident-notice" -> incidentNotice(config, options, out);
                default -> throw new Usage("unknown command " + args[0]);
            };
        } catch (Usage | ConfigException e) {
            err.println(args[0] + ": " + e.getMessage());
            return 2;
        } catch (AppError e) {
            err.println(args[0] + ": " + e.detail() + " " + e.fieldErrors());
            return 2;
        } catch (RuntimeException e) {
            err.println(args[0] + ": failed: " + e.getMessage());
            return 1;
        }
    }

    private static int suspendAccount(AppConfig config, Map<String, String> o, PrintStream out) {
        allow(o, "account", "reason", "resume");
        UUID account;
        try {
            account = UUID.fromString(required(o, "account"));
        } catch (IllegalArgumentException e) {
            throw new Usage("--account must be an account id (UUID)");
        }
        String reason = required(o, "reason");
        boolean resume = o.containsKey("resume");
        boolean changed = withDatabase(config, (vertx, pool) -> {
            AccountSuspension accounts = new AccountSuspension(pool, new AuditLog(vertx.eventBus()));
            return resume
                    ? accounts.resume(account, reason, ActorType.SYSTEM, Optional.empty())
                    : accounts.suspend(account, reason, ActorType.SYSTEM, Optional.empty());
        });
        if (!changed) {
            out.println("account " + account + " was not " + (resume ? "suspended" : "active") + ": nothing changed");
            return 1;
        }
        out.println("account " + account
                + (resume
                        ? " is active again"
                        : " is suspended: its tokens are refused (403 account_suspended) "
                                + "within a second and its users cannot sign in"));
        return 0;
    }

    private static int endSessions(AppConfig config, Map<String, String> o, PrintStream out) {
        allow(o, "user", "all");
        if (o.containsKey("user") == o.containsKey("all")) {
            throw new Usage("give --user EMAIL or --all");
        }
        int ended = withDatabase(config, (vertx, pool) -> {
            SessionTermination sessions = new SessionTermination(pool, new AuditLog(vertx.eventBus()));
            return o.containsKey("all")
                    ? sessions.endAll(ActorType.SYSTEM, Optional.empty())
                    : sessions.endForUser(required(o, "user"), ActorType.SYSTEM, Optional.empty());
        });
        out.println(
                "ended " + ended + " session(s)" + (o.containsKey("all") ? " platform-wide" : " of " + o.get("user"))
                        + "; their access tokens are refused within a second, their refresh tokens at once");
        return 0;
    }

    private static int rotateJwtKey(AppConfig config, Map<String, String> env, Map<String, String> o, PrintStream out) {
        allow(o, "no-overlap");
        JwtKeyRotation.Result r = JwtKeyRotation.rotate(config, env, !o.containsKey("no-overlap"));
        out.println("new signing key " + r.newKid() + " written to " + r.keyFile() + "; "
                + (r.retiredKept() > 0
                        ? "key " + r.retiredKid() + " still verifies its tokens from " + r.previousFile()
                                + " (remove it after "
                                + config.auth().accessTokenTtl().toSeconds() + " s)"
                        : "no retired key verifies any more: every earlier token is refused")
                + "; restart every instance to apply");
        return 0;
    }

    private static int incidentNotice(AppConfig config, Map<String, String> o, PrintStream out) {
        allow(o, "accounts", "all", "subject", "body-file", "incident", "per-minute");
        if (o.containsKey("accounts") == o.containsKey("all")) {
            throw new Usage("give --accounts ID,ID… or --all");
        }
        Optional<List<UUID>> accounts;
        try {
            accounts = o.containsKey("all")
                    ? Optional.empty()
                    : Optional.of(Arrays.stream(required(o, "accounts").split(","))
                            .map(String::trim)
                            .filter(s -> !s.isEmpty())
                            .map(UUID::fromString)
                            .distinct()
                            .toList());
        } catch (IllegalArgumentException e) {
            throw new Usage("--accounts must be account ids (UUIDs), comma-separated");
        }
        String subject = required(o, "subject");
        String body;
        try {
            body = Files.readString(Path.of(required(o, "body-file")), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new Usage("cannot read --body-file " + o.get("body-file"));
        }
        int perMinute;
        try {
            perMinute = Integer.parseInt(o.getOrDefault("per-minute", Integer.toString(DEFAULT_PER_MINUTE)));
        } catch (NumberFormatException e) {
            throw new Usage("--per-minute must be a whole number");
        }
        String incident = o.containsKey("incident") ? o.get("incident") : "notice-" + digest(subject + "\n" + body);
        IncidentNoticeService.Notice notice =
                new IncidentNoticeService.Notice(incident, accounts, subject, body, perMinute);
        IncidentNoticeService.Queued queued = withDatabase(config, (vertx, pool) -> new IncidentNoticeService(
                        pool, new AuditLog(vertx.eventBus()), new EmailOutbox(vertx.eventBus()))
                .queue(notice, Actor.SYSTEM));
        out.println("incident " + incident + ": queued " + queued.emails() + " email(s) to the users of "
                + queued.accounts()
                + " account(s), sent over "
                + IncidentNoticeService.spread(queued.emails(), perMinute).toSeconds()
                + " s; running it again queues only people not yet queued");
        return 0;
    }

    private static <T> T withDatabase(AppConfig config, java.util.function.BiFunction<Vertx, Pool, Future<T>> work) {
        Vertx vertx = Vertx.vertx();
        // An audit entry signals the sealer after its commit, over this Vert.x's own bus: without
        // the codec the hook fails (the entry is committed either way; a server instance seals it).
        LocalRecordCodec.register(vertx, Signal.class);
        try {
            Pool pool = PgBuilder.pool()
                    .with(new PoolOptions().setMaxSize(2))
                    .connectingTo(PgUrl.parse(config.db().adminUrl()).connectOptions())
                    .using(vertx)
                    .build();
            return work.apply(vertx, pool)
                    .eventually(pool::close)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(5, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r
                    ? r
                    : new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the database did not answer in time", e);
        } finally {
            vertx.close();
        }
    }

    private static String digest(String text) {
        return HexFormat.of().formatHex(Sha256.of(text), 0, 8);
    }

    /** {@code --name value} pairs and bare {@code --flag}s. */
    static Map<String, String> options(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || args[i].length() < 3) {
                throw new Usage("unexpected argument '" + args[i] + "'");
            }
            String name = args[i].substring(2);
            boolean hasValue = i + 1 < args.length && !args[i + 1].startsWith("--");
            if (out.put(name, hasValue ? args[++i] : "") != null) {
                throw new Usage("--" + name + " given twice");
            }
        }
        return out;
    }

    private static void allow(Map<String, String> o, String... names) {
        Set<String> allowed = Set.of(names);
        o.keySet().stream().filter(k -> !allowed.contains(k)).findFirst().ifPresent(k -> {
            throw new Usage("unknown option --" + k);
        });
    }

    private static String required(Map<String, String> o, String name) {
        String v = o.getOrDefault(name, "");
        if (v.isBlank()) {
            throw new Usage("--" + name + " needs a value");
        }
        return v;
    }

    /** A mistake in the command line: reported in one line with exit code 2. */
    private static final class Usage extends RuntimeException {
        Usage(String message) {
            super(message, null, false, false);
        }
    }
}
