package uk.co.tradersflow.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/**
 * Collects every warning of Vert.x's blocked-thread checker during the test run. Test servers
 * run with a low max execute time, and {@link TestServer#close()} fails the test if the checker
 * spoke: blocking an event loop is a bug even when the test's assertions pass.
 *
 * <p>A test that stops the whole JVM itself (a forced full GC, to read the live heap) does so
 * through {@link #pauseTheWorld}: a warning that pause alone explains is not counted. The checker
 * reports a loop whose task has run past the limit; a pause of every thread stretches whatever
 * task was running, so a warning logged during the pause or just after it, for a task that ran no
 * longer than the pause plus the limit, says nothing about the server.
 */
public final class BlockedThreadWatch extends AppenderBase<ILoggingEvent> {
    private static final Pattern BLOCKED_FOR = Pattern.compile("has been blocked for (\\d+) ms");
    /** The checker wakes every 50 ms in tests; it may log this long after a pause ends. */
    private static final long CHECKER_LAG_MS = 250;

    private record Warning(long atMillis, String message) {}

    private record Pause(long startMillis, long endMillis) {}

    private static final List<Warning> warnings = new CopyOnWriteArrayList<>();
    private static final List<Pause> pauses = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    public static synchronized void install() {
        if (installed) {
            return;
        }
        Logger logger = (Logger) LoggerFactory.getLogger("io.vertx.core.impl.BlockedThreadChecker");
        BlockedThreadWatch appender = new BlockedThreadWatch();
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
        installed = true;
    }

    @Override
    protected void append(ILoggingEvent event) {
        warnings.add(new Warning(event.getTimeStamp(), event.getFormattedMessage()));
    }

    /** Runs {@code pause}, which stops every thread of the JVM (e.g. {@code System.gc()}). */
    public static void pauseTheWorld(Runnable pause) {
        long start = System.currentTimeMillis();
        try {
            pause.run();
        } finally {
            pauses.add(new Pause(start, System.currentTimeMillis()));
        }
    }

    /** Every warning so far, in order, but those a test's own {@link #pauseTheWorld} explains. */
    public static List<String> warnings() {
        return warnings.stream()
                .filter(w -> !explainedByAPause(w))
                .map(Warning::message)
                .toList();
    }

    private static boolean explainedByAPause(Warning w) {
        Matcher blocked = BLOCKED_FOR.matcher(w.message());
        if (!blocked.find()) {
            return false;
        }
        long blockedMs = Long.parseLong(blocked.group(1));
        return pauses.stream()
                .anyMatch(p -> w.atMillis() >= p.startMillis()
                        && w.atMillis() <= p.endMillis() + CHECKER_LAG_MS
                        && blockedMs <= (p.endMillis() - p.startMillis()) + TestServer.BLOCKED_LIMIT_MS);
    }
}
