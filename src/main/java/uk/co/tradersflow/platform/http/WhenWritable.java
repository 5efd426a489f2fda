package uk.co.tradersflow.platform.http;

import io.vertx.core.streams.WriteStream;

/**
 * Runs a write once its stream has room. Vert.x keeps a stream's drain handler after calling it and
 * calls it again at every later drain (an HTTP response's among them), so a handler set for one
 * write and never cleared runs that write again the next time the stream fills and drains. Here the
 * handler clears itself before it runs its write: one drain, one run. It takes over the stream's
 * drain handler, so one write at a time may wait on a stream.
 */
public final class WhenWritable {
    private WhenWritable() {}

    /** Runs {@code write} now when {@code out} has room, else at its next drain, and only then. */
    public static void run(WriteStream<?> out, Runnable write) {
        if (!out.writeQueueFull()) {
            write.run();
            return;
        }
        out.drainHandler(v -> {
            out.drainHandler(null);
            write.run();
        });
    }
}
