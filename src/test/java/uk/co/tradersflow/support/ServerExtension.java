package uk.co.tradersflow.support;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link TestServer} per test class: started before the class's first test, closed after its
 * last, with the checks {@link TestServer#close()} makes (the blocked-thread checker stayed silent,
 * every response matched {@code openapi.yaml}) failing the class. Register it as
 * <pre>{@code
 * @RegisterExtension
 * static final ServerExtension lifecycle = ServerExtension.with(Map.of("TF_...", "..."))
 *     .then(s -> server = s);
 * }</pre>
 * JUnit runs extensions' before-all callbacks ahead of the class's own {@code @BeforeAll} methods
 * and their after-all callbacks behind its {@code @AfterAll} methods, so a class's own set-up sees
 * the running server and its own tear-down (a client opened on the server's Vert.x) runs before
 * the server closes. What the server must outlive (a fake Stripe, a GreenMail) is handed to
 * {@link #closing}, closed after it.
 */
public final class ServerExtension implements BeforeAllCallback, AfterAllCallback {
    /** What the class does with the started server: keep it in its fields, create its users. */
    @FunctionalInterface
    public interface Started {
        void accept(TestServer server) throws Exception;
    }

    /** Settings worked out at the start; may start what they name, and fail doing so. */
    @FunctionalInterface
    public interface Settings {
        Map<String, String> get() throws Exception;
    }

    private final Settings settings;
    private final List<Started> started = new ArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private TestServer server;

    private ServerExtension(Settings settings) {
        this.settings = settings;
    }

    /** The server with the test defaults. */
    public static ServerExtension withDefaults() {
        return with(Map.of());
    }

    /** The server with these {@code TF_*} settings over the test defaults. */
    public static ServerExtension with(Map<String, String> settings) {
        return with(() -> settings);
    }

    /**
     * Settings worked out just before the start, where they name something started for the class
     * first (a fake Stripe's address, a GreenMail's port): the supplier starts it.
     */
    public static ServerExtension with(Settings settings) {
        return new ServerExtension(settings);
    }

    /**
     * The server behind a {@link FakeStripe} started just before it (handed to {@code started}, then
     * to {@code settings} for the server's settings) and closed after it.
     */
    public static ServerExtension withFakeStripe(
            java.util.function.Consumer<FakeStripe> started,
            java.util.function.Function<FakeStripe, Map<String, String>> settings) {
        FakeStripe[] fake = new FakeStripe[1];
        return with(() -> {
                    fake[0] = new FakeStripe();
                    started.accept(fake[0]);
                    return settings.apply(fake[0]);
                })
                .closing(() -> fake[0]);
    }

    /** Run once the server is up, in the order added, before the class's own {@code @BeforeAll}. */
    public ServerExtension then(Started action) {
        started.add(action);
        return this;
    }

    /**
     * Closed after the server, in the reverse order of adding (the last added first). Its target is
     * read when it runs, so a field the settings supplier assigns can be named here; a resource the
     * class never got to start is passed over.
     */
    public ServerExtension closing(Supplier<? extends AutoCloseable> resource) {
        closing.add(() -> {
            AutoCloseable r = resource.get();
            if (r != null) {
                r.close();
            }
        });
        return this;
    }

    /** The running server (between the class's first and last test). */
    public TestServer server() {
        if (server == null) {
            throw new IllegalStateException("the server runs only while its test class does");
        }
        return server;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = TestServer.start(settings.get());
        for (Started action : started) {
            action.accept(server);
        }
    }

    /** Closes the server and then everything it outlives; the first failure is thrown, later ones ride on it. */
    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        Throwable failure = null;
        if (server != null) {
            try {
                server.close();
            } catch (Throwable t) {
                failure = t;
            }
            server = null;
        }
        for (int i = closing.size() - 1; i >= 0; i--) {
            try {
                closing.get(i).close();
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                } else {
                    failure.addSuppressed(t);
                }
            }
        }
        if (failure instanceof Exception e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }
}
