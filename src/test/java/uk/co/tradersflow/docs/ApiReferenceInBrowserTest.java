package uk.co.tradersflow.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestServer;

/**
 * The reference really renders in a browser under its CSP: headless Chromium (Debian package
 * {@code chromium}, which {@code .ci/run} installs) loads {@code /docs}, runs Swagger UI from our
 * origin, fetches {@code /openapi.yaml} and draws the operations, with no CSP violation.
 */
class ApiReferenceInBrowserTest {

    @Test
    void swaggerUiRendersTheDocumentUnderThePagesCsp() throws Exception {
        Path profile = Files.createTempDirectory("tf-chromium");
        try (TestServer server = TestServer.start()) {
            Path out = profile.resolve("chromium.txt");
            Process chromium = new ProcessBuilder(List.of(
                            "chromium",
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--ignore-certificate-errors",
                            "--user-data-dir=" + profile.resolve("profile"),
                            "--enable-logging=stderr",
                            "--v=0",
                            "--virtual-time-budget=15000",
                            "--dump-dom",
                            "https://localhost:" + server.config.http().httpsPort() + "/docs"))
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            try {
                assertThat(chromium.waitFor(90, TimeUnit.SECONDS))
                        .as("chromium finished")
                        .isTrue();
            } finally {
                chromium.destroyForcibly().waitFor();
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertThat(text)
                    .as("Swagger UI drew the document's operations")
                    .contains("TradersFlow API", "id=\"operations-tag-customers\"", "Customers, newest first");
            assertThat(text)
                    .as("no Content Security Policy violation")
                    .doesNotContain("Content Security Policy", "Refused to");
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temporary folder: left to the OS
            }
        }
    }
}
