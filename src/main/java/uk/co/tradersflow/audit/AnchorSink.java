package uk.co.tradersflow.audit;

import java.io.IOException;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Somewhere outside the database that keeps signed checkpoints of the audit chain, append-only.
 * Every call blocks (files, S3): callers run it on a worker thread.
 */
interface AnchorSink {
    /** One stored checkpoint as read back: where it was ({@code file:line}, {@code s3://…}) and its text. */
    record Stored(String source, String text) {}

    /** Where this sink writes, for logs and replies (never a secret). */
    String describe();

    /** Stores {@code line} (one JSON document, no line break) for checkpoint {@code key}; returns once it is durable. */
    void append(String key, String line) throws IOException;

    /**
     * Reads every stored checkpoint; a sink that can tell a checkpoint's key without reading it
     * (an object name) skips the keys {@code wanted} refuses: ones already read from another sink.
     */
    void readAll(Predicate<String> wanted, Consumer<Stored> each) throws IOException;
}
