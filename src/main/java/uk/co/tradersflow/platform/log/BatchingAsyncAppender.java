package uk.co.tradersflow.platform.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.AppenderAttachableImpl;
import java.io.Flushable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Hands log events from any thread to one background writer, which writes them in batches.
 *
 * <p>Logback's own AsyncAppender drains its queue in batches too, but its writer waits on the
 * queue itself: the writer keeps up, so nearly every line finds it waiting and wakes it (an
 * unpark on the event loop, two context switches), and its console output then makes one
 * write(2) per line. At thousands of request lines a second that was a tenth of the server's CPU
 * on two cores. Here a caller only enqueues. The writer wakes every {@code lingerMillis} (at once when the queue is
 * a quarter full), writes out everything queued, then flushes each attached appender that is
 * {@link Flushable} once for the whole batch.
 *
 * <p>What AsyncAppender with {@code neverBlock} promised still holds. A caller never waits: with
 * the queue four-fifths full, INFO and lower are dropped and WARN and ERROR kept; with it full,
 * everything new is dropped. The writer reports each batch's drops in one WARN line. {@link #stop()}
 * writes out what is queued, waiting up to {@code maxFlushTime} for a slow reader.
 */
public final class BatchingAsyncAppender extends UnsynchronizedAppenderBase<ILoggingEvent>
        implements AppenderAttachable<ILoggingEvent> {
    private final AppenderAttachableImpl<ILoggingEvent> appenders = new AppenderAttachableImpl<>();
    private final AtomicLong dropped = new AtomicLong();
    private int queueSize = 8192;
    private int lingerMillis = 20;
    private int maxFlushTime = 10_000;
    private ArrayBlockingQueue<ILoggingEvent> queue;
    private int infoDroppedFrom; // lines queued from which INFO and lower are dropped: four-fifths
    private int wakeWriterFrom; // lines queued from which a caller wakes the writer: a quarter
    private volatile boolean stopping;
    private Thread writer;

    public void setQueueSize(int queueSize) {
        this.queueSize = queueSize;
    }

    public void setLingerMillis(int lingerMillis) {
        this.lingerMillis = lingerMillis;
    }

    public void setMaxFlushTime(int maxFlushTime) {
        this.maxFlushTime = maxFlushTime;
    }

    @Override
    public void start() {
        if (isStarted()) {
            return;
        }
        if (queueSize < 16 || lingerMillis < 1) {
            addError("queueSize must be at least 16 and lingerMillis at least 1");
            return;
        }
        queue = new ArrayBlockingQueue<>(queueSize);
        infoDroppedFrom = queueSize - queueSize / 5;
        wakeWriterFrom = queueSize / 4;
        stopping = false;
        writer = new Thread(this::writeUntilStopped, "log-writer-" + getName());
        writer.setDaemon(true);
        super.start();
        writer.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        int queued = queue.size();
        if (queued >= infoDroppedFrom && event.getLevel().toInt() <= Level.INFO_INT) {
            dropped.incrementAndGet();
            return;
        }
        event.prepareForDeferredProcessing();
        if (!queue.offer(event)) {
            dropped.incrementAndGet();
            return;
        }
        if (queued >= wakeWriterFrom) {
            LockSupport.unpark(writer);
        }
    }

    /**
     * Drains the queue every {@code lingerMillis} (sooner when callers find it a quarter full)
     * until stopped; then writes out what is left and stops the attached appenders itself, so that
     * {@link #stop()} never waits on an output that does not take its writes.
     */
    private void writeUntilStopped() {
        List<ILoggingEvent> batch = new ArrayList<>(queueSize);
        long linger = TimeUnit.MILLISECONDS.toNanos(lingerMillis);
        while (true) {
            // Read before draining: whatever was queued before stop() is then in this drain.
            boolean last = stopping;
            queue.drainTo(batch);
            if (!batch.isEmpty()) {
                writeOut(batch);
                batch.clear();
            }
            if (last) {
                appenders.detachAndStopAllAppenders();
                return;
            }
            if (queue.size() < wakeWriterFrom) {
                LockSupport.parkNanos(this, linger);
            }
            Thread.interrupted(); // an interrupt left set would make every park return at once
        }
    }

    private void writeOut(List<ILoggingEvent> batch) {
        for (ILoggingEvent event : batch) {
            handOn(event);
        }
        long lost = dropped.getAndSet(0);
        if (lost > 0) {
            handOn(droppedWarning(lost)); // straight to the appenders: through the queue it could be dropped in turn
        }
        flushAppenders();
    }

    // Nothing an appender throws may end the writer: with it gone, every later line would be
    // dropped unseen. So each line and each flush fails on its own.
    private void handOn(ILoggingEvent event) {
        try {
            appenders.appendLoopOnAppenders(event);
        } catch (Throwable e) {
            addError("cannot write a log line", e);
        }
    }

    private ILoggingEvent droppedWarning(long lost) {
        var logger = ((LoggerContext) getContext()).getLogger(BatchingAsyncAppender.class);
        var event = new LoggingEvent(
                BatchingAsyncAppender.class.getName(),
                logger,
                Level.WARN,
                "dropped {} log lines: the log output is not keeping up",
                null,
                new Object[] {lost});
        event.prepareForDeferredProcessing();
        return event;
    }

    private void flushAppenders() {
        for (Iterator<Appender<ILoggingEvent>> it = appenders.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof Flushable flushable) {
                try {
                    flushable.flush();
                } catch (Throwable e) {
                    addError("cannot flush the log output", e);
                }
            }
        }
    }

    /**
     * Stops taking lines and waits up to {@code maxFlushTime} for the writer to write out the
     * queue and stop the attached appenders. A writer still stuck in a write after that (a log
     * collector that stopped reading) is left to finish on its own: it is a daemon thread, and
     * waiting for it, or taking the output's lock it holds, would keep the process from exiting.
     */
    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        stopping = true;
        LockSupport.unpark(writer);
        try {
            writer.join(maxFlushTime);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            addWarn("gave up writing " + queue.size() + " queued log lines after " + maxFlushTime + " ms");
        }
    }

    @Override
    public void addAppender(Appender<ILoggingEvent> appender) {
        appenders.addAppender(appender);
    }

    @Override
    public Iterator<Appender<ILoggingEvent>> iteratorForAppenders() {
        return appenders.iteratorForAppenders();
    }

    @Override
    public Appender<ILoggingEvent> getAppender(String name) {
        return appenders.getAppender(name);
    }

    @Override
    public boolean isAttached(Appender<ILoggingEvent> appender) {
        return appenders.isAttached(appender);
    }

    @Override
    public void detachAndStopAllAppenders() {
        appenders.detachAndStopAllAppenders();
    }

    @Override
    public boolean detachAppender(Appender<ILoggingEvent> appender) {
        return appenders.detachAppender(appender);
    }

    @Override
    public boolean detachAppender(String name) {
        return appenders.detachAppender(name);
    }
}
