package uk.co.tradersflow.platform.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide counts of a fixed set of events (an enum), published as one counter family with
 * one label. Counting is a static one-liner at the place the event happens, with nothing to pass
 * through constructors; every registry bound to the tally sees every value from the start, at 0,
 * so {@code rate()} and {@code increase()} work from the first scrape and a label never appears
 * out of nowhere.
 */
public final class Tally<E extends Enum<E>> {
    private final String name;
    private final String label;
    private final String description;
    private final Map<E, LongAdder> counts;

    public Tally(Class<E> events, String name, String label, String description) {
        this.name = name;
        this.label = label;
        this.description = description;
        this.counts = new EnumMap<>(events);
        for (E e : events.getEnumConstants()) {
            counts.put(e, new LongAdder());
        }
    }

    public void add(E event) {
        counts.get(event).increment();
    }

    public long count(E event) {
        return counts.get(event).sum();
    }

    /** The label value: the enum constant in lower case ({@code LOGIN_FAILED} → {@code login_failed}). */
    public static String labelOf(Enum<?> event) {
        return event.name().toLowerCase(Locale.ROOT);
    }

    public void bindTo(MeterRegistry registry) {
        counts.forEach((event, count) -> FunctionCounter.builder(name, count, LongAdder::doubleValue)
                .description(description)
                .tag(label, labelOf(event))
                .register(registry));
    }
}
