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
 * <p>A test that stops the whole JVM itself, to read the live heap, does so through {@link
 * #forceFullGc}: a full GC pauses every thread, which stretches whatever task an event loop was
 * running. A warning that pause explains is not counted: one whose task started before the pause
 * and ran, the pause aside, no longer than the limit ({@link #explained}).
 */
public final class BlockedThreadWatch extends AppenderBase<ILoggingEvent> {
    private static final Pattern BLOCKED_FOR = Pattern.compile("has been blocked for (\\d+) ms");
    /** The log's timestamps and the checker's clock are read apart: a task may seem this much later. */
    private static final long CLOCK_SLACK_MS = 20;

    record Warning(long atMillis, String message) {}

    record Pause(long startMillis, long endMillis) {}

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

    /** {@code System.gc()}, a pause of every thread of the JVM, recorded as such. */
    public static void forceFullGc() {
        long start = System.currentTimeMillis();
        try {
            System.gc();
        } finally {
            pauses.add(new Pause(start, System.currentTimeMillis()));
        }
    }

    /** Where the warnings stand now; {@link #warningsSince} it gives those logged after. */
    public static int mark() {
        return warnings.size();
    }

    /** The warnings logged since {@code mark}, in order, but those a forced full GC explains. */
    public static List<String> warningsSince(int mark) {
        List<Pause> paused = List.copyOf(pauses);
        return warnings.subList(mark, warnings.size()).stream()
                .filter(w -> !explained(w, paused, TestServer.BLOCKED_LIMIT_MS))
                .map(Warning::message)
                .toList();
    }

    /**
     * Whether one of {@code paused} explains {@code w}: its task started before the pause did (the
     * checker logs it when the loop has run one task longer than {@code limitMs}, saying how long)
     * and, the pause aside, ran no longer than the limit.
     */
    static boolean explained(Warning w, List<Pause> paused, long limitMs) {
        Matcher blocked = BLOCKED_FOR.matcher(w.message());
        if (!blocked.find()) {
            return false;
        }
        long blockedMs = Long.parseLong(blocked.group(1));
        long taskStart = w.atMillis() - blockedMs;
        return paused.stream()
                .anyMatch(p -> taskStart <= p.startMillis() + CLOCK_SLACK_MS
                        && w.atMillis() >= p.startMillis()
                        && blockedMs - (p.endMillis() - p.startMillis()) <= limitMs);
    }
}
