package uk.co.tradersflow.support;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's Chromium, headless, driven through Debian's chromedriver (nothing downloaded), with a
 * fresh profile of its own, the browser console's log kept (for CSP checks), and the flags that
 * keep it off the network this machine does not have. A test class's extension: started before
 * the class's {@code @BeforeAll}, with its screenshot folder made; quit after its
 * {@code @AfterAll}, its profile deleted.
 */
public final class HeadlessChromium implements BeforeAllCallback, AfterAllCallback {
    private final int width;
    private final int height;
    private final Path screenshots;
    private Path profile;
    private ChromeDriver driver;

    private HeadlessChromium(int width, int height, Path screenshots) {
        this.width = width;
        this.height = height;
        this.screenshots = screenshots;
    }

    /** A browser whose window is {@code width} × {@code height}, saving its screenshots under {@code screenshots}. */
    public static HeadlessChromium window(int width, int height, Path screenshots) {
        return new HeadlessChromium(width, height, screenshots);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        Files.createDirectories(screenshots);
        profile = Files.createTempDirectory("tf-chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=" + width + "," + height,
                "--user-data-dir=" + profile);
        options.setAcceptInsecureCerts(true);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
    }

    /** What the browser's console said about the Content Security Policy since last asked: a page broke it. */
    public java.util.List<String> cspViolations() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .map(org.openqa.selenium.logging.LogEntry::getMessage)
                .filter(m -> m.contains("Content Security Policy"))
                .toList();
    }

    public ChromeDriver driver() {
        return driver;
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (driver != null) {
                driver.quit();
            }
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
