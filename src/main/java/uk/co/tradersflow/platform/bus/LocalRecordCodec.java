package uk.co.tradersflow.platform.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes an immutable record across the local event bus by reference. The bus is never
 * clustered here (instances talk through Postgres and Redis), so the wire methods are never
 * used and say so loudly if they are.
 */
public final class LocalRecordCodec<T extends Record> implements MessageCodec<T, T> {
    private final Class<T> type;

    private LocalRecordCodec(Class<T> type) {
        this.type = type;
    }

    /** Registers a codec for {@code type} as its default, once per Vert.x instance. */
    public static <T extends Record> void register(Vertx vertx, Class<T> type) {
        vertx.eventBus().registerDefaultCodec(type, new LocalRecordCodec<>(type));
    }

    @Override
    public void encodeToWire(Buffer buffer, T t) {
        throw new IllegalStateException("the event bus is local; " + type.getSimpleName() + " never goes on a wire");
    }

    @Override
    public T decodeFromWire(int pos, Buffer buffer) {
        throw new IllegalStateException("the event bus is local; " + type.getSimpleName() + " never comes off a wire");
    }

    @Override
    public T transform(T t) {
        return t;
    }

    @Override
    public String name() {
        return "local-" + type.getName();
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
