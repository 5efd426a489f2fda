package uk.co.tradersflow.pages;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;
import uk.co.tradersflow.support.HeadlessChromium;
import uk.co.tradersflow.support.MailedLinks;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;

/**
 * The pages behind the email links, driven in a real headless Chromium (Debian's chromium and
 * chromium-driver) the way a person would: open the link from the queued email, use the page,
 * and check what the API and the database then say. One browser for the class.
 */
class EmailLinkPagesBrowserTest {
    static final String PASSWORD = "correct horse battery staple";
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    static TestServer server;

    @RegisterExtension
    static final HeadlessChromium chromium = HeadlessChromium.window(1024, 768, SCREENSHOTS);

    static ChromeDriver browser;

    // Nothing listens on this SMTP port: the emails stay queued, and the test reads their links.
    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_SMTP_PORT", Integer.toString(TestServer.freePort())))
            .then(s -> server = s);

    @BeforeAll
    static void start() throws Exception {
        browser = chromium.driver();
    }

    /** Every page ran under its CSP without a violation: nothing inline, nothing from elsewhere. */
    @AfterEach
    void noConsoleErrors() {
        List<LogEntry> entries = browser.manage().logs().get(LogType.BROWSER).getAll();
        assertThat(entries)
                .filteredOn(e -> e.getMessage().contains("Content Security Policy"))
                .isEmpty();
        assertThat(entries)
                .filteredOn(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                // A spent token is the API's 422, which Chromium reports as a failed resource.
                .filteredOn(e -> !e.getMessage().contains("422"))
                .isEmpty();
    }

    @Test
    void theVerificationLinkConfirmsTheAddressAndASpentOneSaysSo() throws Exception {
        String email = email();
        signUp(email);
        String link = MailedLinks.newest(server, email, "verify_email");
        assertThat(link).startsWith(server.config.links().publicUrl() + "/verify-email?token=");

        browser.get(link);
        awaitConfirmButton();
        assertThat(verified(email))
                .as("opening the link confirms nothing: mail scanners open links")
                .isFalse();
        screenshot("verify-email-ask");
        pressConfirm();
        assertThat(statusOnceSettled()).isEqualTo("Your email address is confirmed. You can now sign in.");
        assertThat(browser.getCurrentUrl())
                .as("the token is gone from the address bar")
                .isEqualTo(server.config.links().publicUrl() + "/verify-email")
                .doesNotContain("token");
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Confirm your email address");
        screenshot("verify-email");
        assertThat(verified(email)).isTrue();
        assertThat(login(email, PASSWORD).statusCode()).isEqualTo(200);

        browser.get(link);
        awaitConfirmButton();
        pressConfirm();
        assertThat(statusOnceSettled()).startsWith("This link has already been used or has expired.");
        assertThat(browser.findElement(By.id("confirm-button")).isDisplayed())
                .as("nothing left to press")
                .isFalse();
        assertThat(browser.findElement(By.id("status")).getAttribute("class")).isEqualTo("failed");
        screenshot("verify-email-spent");
    }

    @Test
    void theResetLinkSetsANewPasswordWithTheKeyboardAloneAndTheApiThenAcceptsIt() throws Exception {
        String email = email();
        signUpVerified(email);
        assertThat(post("/api/v1/auth/password-reset/request", new JsonObject().put("email", email))
                        .statusCode())
                .isEqualTo(202);
        String link = MailedLinks.newest(server, email, "password_reset");
        assertThat(link).startsWith(server.config.links().publicUrl() + "/reset-password?token=");

        browser.get(link);
        new WebDriverWait(browser, Duration.ofSeconds(10))
                .until(d -> d.findElement(By.id("reset-form")).isDisplayed());
        assertThat(browser.getCurrentUrl()).isEqualTo(server.config.links().publicUrl() + "/reset-password");
        // Labelled fields, and the first one has the focus: a keyboard user types at once.
        assertThat(browser.findElement(By.cssSelector("label[for=new-password]"))
                        .getText())
                .isEqualTo("New password");
        assertThat(browser.findElement(By.cssSelector("label[for=repeat-password]"))
                        .getText())
                .isEqualTo("Repeat the new password");
        WebElement focused = browser.switchTo().activeElement();
        assertThat(focused.getAttribute("id")).isEqualTo("new-password");
        screenshot("reset-password");

        // The API refuses a common password: the reason shows by the form, and the link still works.
        focused.sendKeys("password123", Keys.TAB);
        browser.switchTo().activeElement().sendKeys("password123", Keys.ENTER);
        WebElement error = browser.findElement(By.id("password-error"));
        new WebDriverWait(browser, Duration.ofSeconds(15))
                .until(d -> !error.getText().isEmpty());
        assertThat(error.getText()).isEqualTo("The password is one of the most common passwords; choose another.");
        assertThat(browser.findElement(By.id("reset-form")).isDisplayed()).isTrue();
        focused = browser.switchTo().activeElement();
        assertThat(focused.getAttribute("id")).isEqualTo("new-password");
        focused.clear();
        browser.findElement(By.id("repeat-password")).clear();

        String newPassword = "a brand new password " + UUID.randomUUID();
        focused.sendKeys(newPassword, Keys.TAB);
        browser.switchTo().activeElement().sendKeys("not the same one", Keys.ENTER);
        assertThat(error.getText()).isEqualTo("The two passwords are not the same.");
        WebElement repeat = browser.switchTo().activeElement();
        assertThat(repeat.getAttribute("id")).isEqualTo("repeat-password");
        repeat.clear();
        repeat.sendKeys(newPassword, Keys.ENTER);

        assertThat(statusOnceSettled()).startsWith("Your password has been changed");
        assertThat(browser.findElement(By.id("reset-form")).isDisplayed()).isFalse();
        screenshot("reset-password-done");
        assertThat(login(email, PASSWORD).statusCode()).as("the old password").isEqualTo(401);
        HttpResponse<Buffer> signedIn = login(email, newPassword);
        assertThat(signedIn.statusCode()).as(signedIn.bodyAsString()).isEqualTo(200);
    }

    @Test
    void theEmailChangeLinkMovesTheAccountToTheNewAddress() throws Exception {
        String email = email();
        signUpVerified(email);
        String access = login(email, PASSWORD).bodyAsJsonObject().getString("accessToken");
        String newEmail = email();
        HttpResponse<Buffer> requested = TestServer.await(server.request(POST, "/api/v1/auth/email", access)
                .sendJsonObject(
                        new JsonObject().put("currentPassword", PASSWORD).put("newEmail", newEmail)));
        assertThat(requested.statusCode()).as(requested.bodyAsString()).isEqualTo(202);
        String link = MailedLinks.newest(server, newEmail, "email_change_confirm");
        assertThat(link).startsWith(server.config.links().publicUrl() + "/confirm-email?token=");

        browser.get(link);
        awaitConfirmButton();
        assertThat(login(email, PASSWORD).statusCode())
                .as("opening the link moves nothing: mail scanners open links")
                .isEqualTo(200);
        pressConfirm();
        assertThat(statusOnceSettled())
                .isEqualTo("Your email address has been changed. Sign in with the new address from now on.");
        assertThat(browser.getCurrentUrl()).isEqualTo(server.config.links().publicUrl() + "/confirm-email");
        screenshot("confirm-email");
        assertThat(login(newEmail, PASSWORD).statusCode()).isEqualTo(200);
        assertThat(login(email, PASSWORD).statusCode()).isEqualTo(401);
    }

    /**
     * The lockout and "already registered" emails link to the reset page without a token, for
     * someone who needs a link: the page asks for the address and has one mailed, instead of
     * calling the email's own link incomplete.
     */
    @Test
    void theResetPageWithoutATokenAsksForTheAddressAndMailsALink() throws Exception {
        String email = email();
        signUpVerified(email);
        browser.get(server.config.links().publicUrl() + "/reset-password");
        new WebDriverWait(browser, Duration.ofSeconds(10))
                .until(d -> d.findElement(By.id("request-form")).isDisplayed());
        assertThat(browser.findElement(By.id("reset-form")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.cssSelector("label[for=reset-email]")).getText())
                .isEqualTo("Email");
        WebElement focused = browser.switchTo().activeElement();
        assertThat(focused.getAttribute("id")).isEqualTo("reset-email");
        screenshot("reset-password-request");

        focused.sendKeys(email.toUpperCase(), Keys.ENTER);
        assertThat(statusOnceSettled())
                .startsWith("If an account uses " + email.toUpperCase() + ", a link to choose a new password");
        assertThat(browser.findElement(By.id("request-form")).isDisplayed()).isFalse();
        screenshot("reset-password-requested");
        assertThat(MailedLinks.newest(server, email, "password_reset"))
                .startsWith(server.config.links().publicUrl() + "/reset-password?token=");
    }

    @Test
    void aLinkWithoutItsTokenSaysItIsIncomplete() throws Exception {
        browser.get(server.config.links().publicUrl() + "/confirm-email");
        assertThat(statusOnceSettled()).startsWith("This link is incomplete.");
        screenshot("confirm-email-incomplete");
    }

    @Test
    void thePagesAllowScriptsOnlyFromThisOriginAndSendNoReferrer() {
        for (String path :
                List.of("/verify-email?token=abc", "/reset-password?token=abc", "/confirm-email?token=abc")) {
            HttpResponse<Buffer> page =
                    TestServer.await(server.request(GET, path).send());
            assertThat(page.statusCode()).as(path).isEqualTo(200);
            assertThat(page.getHeader("Content-Type")).isEqualTo("text/html; charset=utf-8");
            assertThat(page.getHeader("Content-Security-Policy"))
                    .isEqualTo(EmailLinkPages.CSP)
                    .contains("script-src 'self'", "style-src 'self'", "frame-ancestors 'none'")
                    .doesNotContain("unsafe");
            assertThat(page.getHeader("Referrer-Policy")).isEqualTo("no-referrer");
            assertThat(page.getHeader("Cache-Control")).isEqualTo("no-store");
            String html = page.bodyAsString();
            // The server never echoes the token; no inline script or style exists for the CSP to allow.
            assertThat(html)
                    .doesNotContain("abc\"")
                    .doesNotContain("<style")
                    .doesNotContain("style=")
                    .doesNotContainPattern("\\son[a-z]+=")
                    .containsPattern("<script src=\"/assets/email-links\\.[0-9a-f]{16}\\.js\"></script>");
            Matcher script = Pattern.compile("<script src=\"([^\"]+)\"").matcher(html);
            assertThat(script.find()).isTrue();
            assertThat(html.indexOf("<script"))
                    .as("the script comes before anything else that loads")
                    .isLessThan(html.indexOf("<link"));
            HttpResponse<Buffer> js =
                    TestServer.await(server.request(GET, script.group(1)).send());
            assertThat(js.statusCode()).isEqualTo(200);
            assertThat(js.getHeader("Content-Type")).isEqualTo("text/javascript; charset=utf-8");
            assertThat(js.bodyAsString()).contains("history.replaceState");
        }
    }

    // ------------------------------------------------------------------------------------ helpers

    static String email() {
        return "pages-" + UUID.randomUUID() + "@example.test";
    }

    static HttpResponse<Buffer> post(String path, JsonObject body) {
        return TestServer.await(server.request(POST, path).sendJsonObject(body));
    }

    static void signUp(String email) {
        HttpResponse<Buffer> r = post(
                "/api/v1/auth/signup",
                new JsonObject().put("email", email).put("password", PASSWORD).put("businessName", "Pages Ltd"));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    }

    /** Signed up and verified through the API, as the pages under test are not the point. */
    static void signUpVerified(String email) {
        signUp(email);
        String token = MailedLinks.token(MailedLinks.newest(server, email, "verify_email"));
        assertThat(post("/api/v1/auth/verify-email", new JsonObject().put("token", token))
                        .statusCode())
                .isEqualTo(204);
    }

    static HttpResponse<Buffer> login(String email, String password) {
        return post("/api/v1/auth/login", new JsonObject().put("email", email).put("password", password));
    }

    /** The page's confirm button, once its script has shown it, with the focus on it. */
    static void awaitConfirmButton() {
        new WebDriverWait(browser, Duration.ofSeconds(10))
                .until(d -> d.findElement(By.id("confirm-button")).isDisplayed());
        assertThat(browser.switchTo().activeElement().getAttribute("id")).isEqualTo("confirm-button");
    }

    /** Presses the focused confirm button the way a keyboard user would. */
    static void pressConfirm() {
        browser.switchTo().activeElement().sendKeys(Keys.ENTER);
    }

    /** The status line once the page has finished its request (it starts with a "…" message). */
    static String statusOnceSettled() {
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(15));
        return wait.until(d -> {
            WebElement status = d.findElement(By.id("status"));
            String cls = status.getAttribute("class");
            return "done".equals(cls) || "failed".equals(cls) ? status.getText() : null;
        });
    }

    static void screenshot(String name) throws Exception {
        File shot = browser.getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    static boolean verified(String email) throws Exception {
        return Boolean.TRUE.equals(
                Sql.admin().value("SELECT email_verified_at IS NOT NULL FROM users WHERE email = ?", email));
    }
}
