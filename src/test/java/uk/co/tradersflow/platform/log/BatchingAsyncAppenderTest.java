package uk.co.tradersflow.platform.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.AppenderBase;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BatchingAsyncAppenderTest {
    private final LoggerContext context = new LoggerContext();
    private final Logger logger = context.getLogger("test");
    private final BatchingAsyncAppender batching = new BatchingAsyncAppender();
    private final Recording output = new Recording();

    /**
     * Records what it is handed and how often it is flushed; can be held to stand for a stalled
     * reader, and made to throw an Error for one line.
     */
    static final class Recording extends AppenderBase<ILoggingEvent> implements Flushable {
        final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
        final AtomicInteger flushes = new AtomicInteger();
        final CountDownLatch entered = new CountDownLatch(1);
        volatile CountDownLatch hold = new CountDownLatch(0);
        volatile String failOn;

        @Override
        protected void append(ILoggingEvent event) {
            entered.countDown();
            if (event.getFormattedMessage().equals(failOn)) {
                throw new StackOverflowError("an appender's bug");
            }
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            events.add(event);
        }

        @Override
        public void flush() {
            flushes.incrementAndGet();
        }

        List<String> messages() {
            return events.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    private void start(int queueSize, int lingerMillis) {
        context.setMDCAdapter(new LogbackMDCAdapter());
        output.setContext(context);
        output.start();
        batching.setContext(context);
        batching.setQueueSize(queueSize);
        batching.setLingerMillis(lingerMillis);
        batching.addAppender(output);
        batching.start();
        logger.addAppender(batching);
        logger.setAdditive(false);
    }

    @AfterEach
    void stop() {
        output.hold.countDown();
        batching.stop();
    }

    @Test
    void everyLineFromEveryThreadIsWrittenInItsOrderWithOneFlushPerBatch() throws Exception {
        start(8192, 20);
        Thread[] callers = new Thread[4];
        for (int t = 0; t < callers.length; t++) {
            int caller = t;
            callers[t] = new Thread(() -> {
                for (int i = 0; i < 1_000; i++) {
                    logger.info("caller {} line {}", caller, i);
                }
            });
            callers[t].start();
        }
        for (Thread caller : callers) {
            caller.join();
        }
        batching.stop();

        assertThat(output.events).hasSize(4_000);
        for (int t = 0; t < callers.length; t++) {
            String prefix = "caller " + t + " ";
            assertThat(output.messages().stream()
                            .filter(m -> m.startsWith(prefix))
                            .toList())
                    .as("caller %d's lines, in the order it logged them", t)
                    .containsExactlyElementsOf(IntStream.range(0, 1_000)
                            .mapToObj(i -> prefix + "line " + i)
                            .toList());
        }
        assertThat(output.flushes.get())
                .as("flushes for 4,000 lines")
                .isPositive()
                .isLessThan(400);
    }

    @Test
    void aStalledOutputNeverHoldsACallerAndKeepsWarningsOverInfoLines() throws Exception {
        start(100, 1);
        output.hold = new CountDownLatch(1);
        logger.info("first, taken by the writer, which then stalls");
        assertThat(output.entered.await(10, TimeUnit.SECONDS)).isTrue();

        assertTimeoutPreemptively(
                Duration.ofSeconds(10),
                () -> {
                    for (int i = 0; i < 5_000; i++) {
                        logger.info("request line {}", i);
                        if (i % 100 == 0) {
                            logger.warn("warning {}", i);
                        }
                    }
                },
                "a caller waited for the stalled output");
        output.hold.countDown();
        batching.stop();

        List<String> written = output.messages();
        assertThat(written.stream().filter(m -> m.startsWith("warning ")))
                .as("warnings kept while the queue was four-fifths full")
                .hasSizeGreaterThanOrEqualTo(19);
        assertThat(written.stream().filter(m -> m.startsWith("request line "))).hasSizeLessThanOrEqualTo(100);
        assertThat(written)
                .anySatisfy(m -> assertThat(m).matches("dropped \\d+ log lines: the log output is not keeping up"));
        assertThat(output.events)
                .filteredOn(e -> e.getMessage().startsWith("dropped"))
                .allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.WARN));
    }

    @Test
    void stoppingWritesOutWhatIsStillQueued() {
        start(8192, (int) TimeUnit.MINUTES.toMillis(10)); // the writer would otherwise sleep past the test
        for (int i = 0; i < 50; i++) {
            logger.error("line {}", i);
        }
        batching.stop();

        assertThat(output.events).hasSize(50);
        assertThat(output.flushes.get()).isPositive();
    }

    @Test
    void anAppenderThatThrowsDoesNotEndTheWriter() {
        start(8192, 1);
        output.failOn = "this line breaks the appender";
        logger.error("this line breaks the appender");
        logger.error("a line after it");
        batching.stop();

        assertThat(output.messages()).containsExactly("a line after it");
    }

    /**
     * A log collector that stops reading leaves the writer stuck in write(2), holding the output's
     * lock. Stopping must still return after maxFlushTime, or the process could not exit.
     */
    @Test
    void stoppingGivesUpOnAStalledOutputAfterMaxFlushTime() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        OutputStream stalled = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        context.setMDCAdapter(new LogbackMDCAdapter());
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        BufferedStdoutAppender stdout = new BufferedStdoutAppender(stalled);
        stdout.setContext(context);
        stdout.setEncoder(encoder);
        stdout.start();
        batching.setContext(context);
        batching.setLingerMillis(1);
        batching.setMaxFlushTime(300);
        batching.addAppender(stdout);
        batching.start();
        logger.addAppender(batching);
        try {
            logger.error("a line nobody reads");
            assertThat(writing.await(10, TimeUnit.SECONDS))
                    .as("the writer is in write(2)")
                    .isTrue();

            assertTimeoutPreemptively(Duration.ofSeconds(10), batching::stop, "stop() waited for the stalled output");
        } finally {
            release.countDown();
        }
    }
}
