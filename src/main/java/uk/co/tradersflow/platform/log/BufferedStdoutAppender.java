package uk.co.tradersflow.platform.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Standard output through a 64 KiB buffer that is written out only when flushed: by
 * {@link BatchingAsyncAppender} once per batch, so many lines cost one write(2) where Logback's
 * ConsoleAppender (System.out flushes every line) costs one each. Use it only under that
 * appender, which is what flushes it.
 */
public final class BufferedStdoutAppender extends OutputStreamAppender<ILoggingEvent> implements Flushable {
    private final OutputStream target;

    public BufferedStdoutAppender() {
        this(new FileOutputStream(FileDescriptor.out));
    }

    BufferedStdoutAppender(OutputStream target) {
        this.target = target;
    }

    @Override
    public void start() {
        setImmediateFlush(false);
        // A PrintStream, as System.out is, so that a failed write (a full disk, a collector gone)
        // loses those lines only: OutputStreamAppender stops for good at the first IOException.
        setOutputStream(new PrintStream(new BufferedOutputStream(target, 64 * 1024), false));
        super.start();
    }

    @Override
    public void flush() throws IOException {
        streamWriteLock.lock();
        try {
            if (getOutputStream() != null) {
                getOutputStream().flush();
            }
        } finally {
            streamWriteLock.unlock();
        }
    }

    /** At stop, writes out what is buffered but leaves standard output open for whatever prints after. */
    @Override
    protected void closeOutputStream() {
        try {
            flush();
        } catch (IOException e) {
            addError("cannot flush standard output", e);
        }
    }
}
