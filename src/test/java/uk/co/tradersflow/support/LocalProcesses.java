package uk.co.tradersflow.support;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** What the test helpers that run a real program on this host (HAProxy, PgBouncer…) share. */
final class LocalProcesses {
    private LocalProcesses() {}

    /** Whether {@code versionCommand} (e.g. {@code haproxy -v}) runs and exits 0 within 10 s: the program is installed. */
    static boolean installed(String... versionCommand) {
        try {
            Process p =
                    new ProcessBuilder(versionCommand).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Asks {@code process} to stop, and kills it if it has not within 10 s. */
    static void stop(Process process) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
