package uk.co.tradersflow.platform.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BufferedStdoutAppenderTest {
    private final LoggerContext context = new LoggerContext();

    /** Standard output that can be made to refuse writes, as a full disk does. */
    static final class Output extends OutputStream {
        private final ByteArrayOutputStream written = new ByteArrayOutputStream();
        volatile boolean failing;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            if (failing) {
                throw new IOException("No space left on device");
            }
            written.write(b, off, len);
        }

        synchronized String text() {
            return written.toString(StandardCharsets.UTF_8);
        }
    }

    private final Output out = new Output();
    private final BufferedStdoutAppender appender = new BufferedStdoutAppender(out);

    private void start() {
        context.setMDCAdapter(new LogbackMDCAdapter());
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.start();
    }

    private void log(String message) {
        appender.doAppend(new LoggingEvent("test", context.getLogger("test"), Level.INFO, message, null, null));
    }

    @Test
    void linesReachTheOutputOnlyWhenFlushed() throws IOException {
        start();
        log("one");
        log("two");
        assertThat(out.text()).as("before a flush").isEmpty();

        appender.flush();
        assertThat(out.text()).isEqualTo("one\ntwo\n");
    }

    /** Logback's OutputStreamAppender stops for good at its output's first IOException; this one must not. */
    @Test
    void aFailedWriteCostsLinesButNotTheLinesAfterIt() throws IOException {
        start();
        out.failing = true;
        log("x".repeat(100_000)); // longer than the buffer: written through at once, and refused
        appender.flush();

        out.failing = false;
        log("after the disk was freed");
        appender.flush();
        assertThat(appender.isStarted()).isTrue();
        assertThat(out.text()).endsWith("after the disk was freed\n");
    }

    @Test
    void stoppingWritesOutTheBufferButLeavesTheOutputOpen() {
        start();
        log("last line");
        appender.stop();
        assertThat(out.text()).isEqualTo("last line\n");
    }
}
