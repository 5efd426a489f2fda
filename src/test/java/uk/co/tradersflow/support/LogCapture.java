package uk.co.tradersflow.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.LoggerFactory;

/**
 * Captures everything logged while open, rendered through the same redacting pattern the server
 * uses in production, so a test can assert that a secret never reached the log output.
 */
public final class LogCapture implements AutoCloseable {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
            new OutputStreamAppender<>();
    private final Logger root;

    public LogCapture() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%level %logger - %redactedMsg%n%redactedEx");
        encoder.start();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setOutputStream(out);
        appender.start();
        root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
    }

    public synchronized String text() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        appender.stop();
    }
}
