package uk.co.tradersflow.platform.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.AppenderBase;
import java.io.Flushable;
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

  /** Records what it is handed and how often it is flushed; can be held to stand for a stalled reader. */
  static final class Recording extends AppenderBase<ILoggingEvent> implements Flushable {
    final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    final AtomicInteger flushes = new AtomicInteger();
    volatile CountDownLatch hold = new CountDownLatch(0);

    @Override
    protected void append(ILoggingEvent event) {
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
      assertThat(output.messages().stream().filter(m -> m.startsWith(prefix)).toList())
          .as("caller %d's lines, in the order it logged them", t)
          .containsExactlyElementsOf(IntStream.range(0, 1_000).mapToObj(i -> prefix + "line " + i).toList());
    }
    assertThat(output.flushes.get()).as("flushes for 4,000 lines").isPositive().isLessThan(400);
  }

  @Test
  void aStalledOutputNeverHoldsACallerAndKeepsWarningsOverInfoLines() throws Exception {
    start(100, 1);
    output.hold = new CountDownLatch(1);
    logger.info("first, taken by the writer, which then stalls");
    Thread.sleep(50);

    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      for (int i = 0; i < 5_000; i++) {
        logger.info("request line {}", i);
        if (i % 100 == 0) {
          logger.warn("warning {}", i);
        }
      }
    }, "a caller waited for the stalled output");
    output.hold.countDown();
    batching.stop();

    List<String> written = output.messages();
    assertThat(written.stream().filter(m -> m.startsWith("warning ")))
        .as("warnings kept while the queue was four-fifths full")
        .hasSizeGreaterThanOrEqualTo(19);
    assertThat(written.stream().filter(m -> m.startsWith("request line "))).hasSizeLessThanOrEqualTo(100);
    assertThat(written).anySatisfy(m -> assertThat(m).matches("dropped \\d+ log lines: the log output is not keeping up"));
    assertThat(output.events).filteredOn(e -> e.getMessage().startsWith("dropped"))
        .allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.WARN));
  }

  @Test
  void stoppingWritesOutWhatIsStillQueued() {
    start(8192, (int) TimeUnit.MINUTES.toMillis(10));  // the writer would otherwise sleep past the test
    for (int i = 0; i < 50; i++) {
      logger.error("line {}", i);
    }
    batching.stop();

    assertThat(output.events).hasSize(50);
    assertThat(output.flushes.get()).isPositive();
  }
}
