package uk.co.tradersflow.platform.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.Flushable;
import java.io.IOException;

/**
 * Standard output through a 64 KiB buffer that is written out only when flushed: by
 * {@link BatchingAsyncAppender} once per batch, so many lines cost one write(2) where Logback's
 * ConsoleAppender (System.out flushes every line) costs one each. Use it only under that
 * appender, which is what flushes it.
 */
public final class BufferedStdoutAppender extends OutputStreamAppender<ILoggingEvent> implements Flushable {

  @Override
  public void start() {
    setImmediateFlush(false);
    setOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 64 * 1024));
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
