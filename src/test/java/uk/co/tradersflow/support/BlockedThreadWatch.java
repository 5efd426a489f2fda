package uk.co.tradersflow.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Collects every warning of Vert.x's blocked-thread checker during the test run. Test servers
 * run with a low max execute time, and {@link TestServer#close()} fails the test if the checker
 * spoke: blocking an event loop is a bug even when the test's assertions pass.
 */
public final class BlockedThreadWatch extends AppenderBase<ILoggingEvent> {
    private static final List<String> warnings = new CopyOnWriteArrayList<>();
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
        warnings.add(event.getFormattedMessage());
    }

    public static List<String> warnings() {
        return List.copyOf(warnings);
    }
}
