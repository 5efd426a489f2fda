package uk.co.tradersflow.platform.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * {@code tf_build_info{version, commit} 1}: which build is running, for dashboards that mark
 * deploys and alerts that must tell two versions apart. Maven writes both into
 * {@code tradersflow-build.properties} (the commit from git at build time, or {@code -Dtf.commit=…}; {@code unknown} outside a checkout).
 */
public final class BuildInfo {
    static final String RESOURCE = "/tradersflow-build.properties";

    public record Build(String version, String commit) {}

    private BuildInfo() {}

    public static Build current() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Build(known(p.getProperty("version")), known(p.getProperty("commit")));
    }

    /** An unfiltered placeholder (a build that skipped resource filtering) is as good as nothing. */
    private static String known(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value.trim();
    }

    public static void bindTo(MeterRegistry registry) {
        Build build = current();
        Gauge.builder("tf.build.info", () -> 1)
                .description("The running build: always 1, the labels say which")
                .tag("version", build.version())
                .tag("commit", build.commit())
                .register(registry);
    }
}
