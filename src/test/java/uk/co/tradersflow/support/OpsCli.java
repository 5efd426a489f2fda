package uk.co.tradersflow.support;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import uk.co.tradersflow.ops.OpsCommands;

/** Runs an operator command ({@code java -jar tradersflow.jar <command>}) in-process, with these settings as its environment. */
public final class OpsCli {
    public record Run(int exit, String out, String err) {}

    private OpsCli() {}

    public static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = OpsCommands.run(
                args,
                env,
                Optional.empty(),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The settings a command needs to work on this test server's database and development keys. */
    public static Map<String, String> envOf(TestServer server) {
        return Map.of(
                "TF_DB_ADMIN_URL",
                server.env.adminUrl(),
                "TF_DB_URL",
                server.env.appUrl(),
                "TF_DEV_DATA_DIR",
                server.config.ops().devDataDir().toString());
    }
}
