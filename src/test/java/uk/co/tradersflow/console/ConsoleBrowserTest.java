package uk.co.tradersflow.console;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.io.File;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.WebDriverWait;
import uk.co.tradersflow.auth.SessionStateCache;
import uk.co.tradersflow.support.HeadlessChromium;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The owners' console driven in a real headless Chromium (Debian's chromium and chromium-driver),
 * as an owner would use it, with what the API and the database then say checked beside it; and
 * its security (cookie flags, CSP, cross-origin forms, non-staff) checked over plain HTTP.
 */
class ConsoleBrowserTest {
    static final String PASSWORD = "correct horse battery staple";
    static final String TAG = UUID.randomUUID().toString().substring(0, 8);
    static final String OWNER = "owner-" + TAG + "@tradersflow.test";
    static final String OUTSIDER = "outsider-" + TAG + "@example.test";
    static final String SUPPORT = "support-" + TAG + "@tradersflow.test";
    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    static TestServer server;
    static TestUser trader;
    static String business;

    @RegisterExtension
    static final HeadlessChromium chromium = HeadlessChromium.window(1280, 900, SCREENSHOTS);

    static ChromeDriver browser;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_OWNER_EMAILS", OWNER, "TF_SUPPORT_EMAILS", SUPPORT, "TF_API_BURST", "1000"))
            .then(s -> server = s);

    @BeforeAll
    static void start() throws Exception {
        staffWithPassword(OWNER);
        staffWithPassword(OUTSIDER);
        staffWithPassword(SUPPORT);
        trader = new TestUsers(server).create("trader-" + TAG + "@example.test", true);
        business = "Console " + TAG + " Electrical";
        Sql.admin().update("UPDATE accounts SET business_name = ? WHERE id = ?", business, trader.accountId());

        browser = chromium.driver();
    }

    /** Every page ran under its CSP without a violation: nothing inline, nothing from elsewhere. */
    @AfterEach
    void noCspViolations() {
        assertThat(chromium.cspViolations()).isEmpty();
    }

    @Test
    void anOwnerSignsInSearchesSuspendsAndReinstatesVerifiesTheChainAndSignsOut() throws Exception {
        browser.get(base() + "/admin");
        assertThat(heading("Sign in")).isEqualTo("Sign in");
        screenshot("sign-in");
        fillSignIn(OWNER);

        assertThat(browser.findElements(By.linkText("Audit log"))).hasSize(1);
        WebElement search = browser.findElement(By.id("query"));
        assertThat(browser.findElement(By.cssSelector("label[for=query]")).getText())
                .isEqualTo("Search accounts");
        search.sendKeys(TAG + " Electrical");
        button("Search").click();
        screenshot("accounts");
        List<WebElement> rows = browser.findElements(By.cssSelector("#accounts tbody tr"));
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).getText()).contains(business).contains(trader.email());
        browser.findElement(By.linkText(business)).click();

        assertThat(heading()).isEqualTo(business);
        screenshot("account");
        WebElement extend = button("Extend trial");
        extend.click();
        WebElement trialDialog = browser.findElement(By.id("dlg-extend_trial"));
        assertThat(browser.switchTo().activeElement()).isEqualTo(browser.findElement(By.id("trial-days")));
        browser.switchTo().activeElement().sendKeys(org.openqa.selenium.Keys.ESCAPE);
        assertThat(trialDialog.isDisplayed()).as("Escape closes the dialog").isFalse();
        assertThat(browser.switchTo().activeElement())
                .as("focus returns to its button")
                .isEqualTo(extend);

        act("Extend trial", "trial-days", "-5", "trial-reason", "goodwill");
        WebElement days = browser.findElement(By.id("trial-days"));
        assertThat(browser.findElement(By.id("dlg-extend_trial")).isDisplayed())
                .as("a 422 reopens the dialog")
                .isTrue();
        assertThat(days.getDomProperty("value")).as("what was typed is kept").isEqualTo("-5");
        assertThat(browser.findElement(By.id("trial-reason")).getDomProperty("value"))
                .isEqualTo("goodwill");
        assertThat(days.getAttribute("aria-invalid")).isEqualTo("true");
        assertThat(days.getAttribute("aria-describedby")).isEqualTo("trial-days-error");
        assertThat(browser.findElement(By.id("trial-days-error")).getText()).isNotBlank();
        assertThat(browser.findElement(By.id("trial-reason")).getAttribute("aria-invalid"))
                .as("only the field in error is marked")
                .isNull();
        assertThat(browser.switchTo().activeElement())
                .as("focus on the field in error")
                .isEqualTo(days);
        screenshot("account-field-error");
        browser.findElement(By.cssSelector("#dlg-extend_trial [data-close]")).click();

        act("Suspend", "suspend-reason", "chargeback fraud");
        assertThat(outcome()).isEqualTo("Account suspended.");
        assertThat(browser.findElement(By.id("account-status")).getText()).isEqualTo("suspended");
        assertThat(awaitStatus(trader.token(), 403))
                .as("the suspended account's API token is refused")
                .isEqualTo(403);

        act("Reinstate", "reinstate-reason", "cleared");
        assertThat(outcome()).isEqualTo("Account reinstated.");
        assertThat(Sql.admin().value("SELECT status FROM accounts WHERE id = ?", trader.accountId()))
                .isEqualTo("active");
        screenshot("account-after-actions");

        browser.findElement(By.linkText("Audit log")).click();
        assertThat(heading("Audit log")).isEqualTo("Audit log");
        button("Verify chain").click();
        new WebDriverWait(browser, Duration.ofSeconds(10))
                .until(d -> !d.findElements(By.id("verification")).isEmpty());
        assertThat(browser.findElement(By.id("verification")).getText()).startsWith("Chain intact: ");
        screenshot("audit-log");

        browser.findElement(By.linkText("Analytics")).click();
        assertThat(heading("Analytics")).isEqualTo("Analytics");
        List<WebElement> charts = browser.findElements(By.cssSelector("svg[role=img]"));
        assertThat(charts).hasSize(2);
        assertThat(charts.stream().map(c -> c.getAttribute("aria-labelledby")).toList())
                .allSatisfy(ids -> assertThat(ids).isNotBlank());
        assertThat(browser.findElements(By.cssSelector("svg[role=img] > title")).stream()
                        .map(t -> t.getAttribute("textContent"))
                        .toList())
                .containsExactly("Signups per day over 30 days", "Accounts by subscription status");
        assertThat(browser.findElement(By.id("mrr")).getText()).startsWith("£");
        assertThat(browser.findElement(By.id("churn")).getText()).endsWith("%");
        assertThat(browser.findElement(By.id("as-of")).getText())
                .as("the figures are a summary: the page says of when")
                .matches("Figures as of \\d{2}:\\d{2}:\\d{2} UTC \\(never more than 60 seconds old\\)\\.");
        screenshot("analytics");

        browser.findElement(By.linkText("Emails")).click();
        assertThat(heading("Emails")).isEqualTo("Emails");
        screenshot("emails");
        browser.findElement(By.linkText("Webhooks")).click();
        assertThat(heading("Webhooks")).isEqualTo("Webhooks");
        screenshot("webhooks");

        button("Sign out").click();
        assertThat(heading("Sign in")).isEqualTo("Sign in");
        browser.get(base() + "/admin/accounts");
        assertThat(heading())
                .as("signed out: the console asks to sign in again")
                .isEqualTo("Sign in");
    }

    @Test
    void theSessionCookieIsHostOnlySecureHttpOnlyStrictAndPagesCarryTheCsp() {
        HttpResponse<Buffer> signIn = signIn(OWNER);
        assertThat(signIn.statusCode()).isEqualTo(303);
        String setCookie = signIn.getHeader("Set-Cookie");
        assertThat(setCookie)
                .startsWith("__Host-tf_admin=")
                .contains("; Path=/")
                .contains("; Secure")
                .contains("; HttpOnly")
                .contains("; SameSite=Strict")
                .doesNotContain("Domain=");
        HttpResponse<Buffer> page = get("/admin/accounts", cookieOf(signIn));
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.getHeader("Content-Security-Policy"))
                .contains("default-src 'self'")
                .contains("script-src 'self'")
                .contains("style-src 'self'")
                .contains("frame-ancestors 'none'")
                .contains("form-action 'self'")
                .doesNotContain("unsafe-inline");
        assertThat(page.bodyAsString()).doesNotContain("<script>").doesNotContain("style=");
        assertThat(get("/admin", "").getHeader("Content-Security-Policy")).contains("script-src 'self'");
    }

    @Test
    void aCrossOriginPostIsRefusedAndChangesNothing() {
        String cookie = cookieOf(signIn(OWNER));
        String csrf =
                csrfOf(get("/admin/accounts/" + trader.accountId(), cookie).bodyAsString());
        String form = "csrf=" + csrf + "&action=suspend&reason=evil";
        HttpResponse<Buffer> evil =
                postForm("/admin/accounts/" + trader.accountId() + "/actions", cookie, "https://evil.example", form);
        assertThat(evil.statusCode()).isEqualTo(403);
        HttpResponse<Buffer> noToken = postForm(
                "/admin/accounts/" + trader.accountId() + "/actions", cookie, base(), "action=suspend&reason=evil");
        assertThat(noToken.statusCode()).as("same origin but no form token").isEqualTo(403);
        assertThat(Sql.admin().value("SELECT status FROM accounts WHERE id = ?", trader.accountId()))
                .isEqualTo("active");
    }

    @Test
    void someoneSignedInWhoIsNotStaffSeesNotAnOwnerAndNoData() {
        String cookie = cookieOf(signIn(OUTSIDER));
        HttpResponse<Buffer> page = get("/admin/accounts", cookie);
        assertThat(page.statusCode()).isEqualTo(403);
        assertThat(page.bodyAsString()).contains("<h1>Not an owner</h1>").doesNotContain(business);
        assertThat(get("/admin/accounts/" + trader.accountId(), cookie).bodyAsString())
                .contains("Not an owner")
                .doesNotContain(business);
    }

    @Test
    void anOwnerExportsAReportAsCsvFromTheConsole() {
        String cookie = cookieOf(signIn(OWNER));
        String page = get("/admin/accounts", cookie).bodyAsString();
        assertThat(page).contains(">Export</button>");
        HttpResponse<Buffer> csv =
                postForm("/admin/exports", cookie, base(), "csrf=" + csrfOf(page) + "&report=accounts");
        assertThat(csv.statusCode()).as(csv.bodyAsString()).isEqualTo(200);
        assertThat(csv.getHeader("Content-Type")).startsWith("text/csv");
        assertThat(csv.getHeader("Content-Disposition")).startsWith("attachment;");
        assertThat(csv.bodyAsString()).contains(business);
    }

    @Test
    void supportStaffSeeThePagesWithoutTheOwnersButtons() {
        String cookie = cookieOf(signIn(SUPPORT));
        HttpResponse<Buffer> account = get("/admin/accounts/" + trader.accountId(), cookie);
        assertThat(account.statusCode()).isEqualTo(200);
        assertThat(account.bodyAsString())
                .contains("<h1>" + business + "</h1>")
                .contains(">Send sign-in link</button>")
                .doesNotContain(">Suspend</button>")
                .doesNotContain(">Refund</button>")
                .doesNotContain(">Reinstate</button>")
                .doesNotContain(">Extend trial</button>");
        assertThat(get("/admin/accounts", cookie).bodyAsString()).doesNotContain(">Export</button>");
        String csrf = csrfOf(account.bodyAsString());
        HttpResponse<Buffer> suspend = postForm(
                "/admin/accounts/" + trader.accountId() + "/actions",
                cookie,
                base(),
                "csrf=" + csrf + "&action=suspend&reason=support+tries");
        assertThat(suspend.statusCode())
                .as("the service refuses support as the API does")
                .isEqualTo(403);
        assertThat(Sql.admin().value("SELECT status FROM accounts WHERE id = ?", trader.accountId()))
                .isEqualTo("active");

        UUID failed = failedEmail("support-view-" + TAG + "@example.test");
        String emails = get("/admin/emails?recipient=support-view-" + TAG + "%40example.test", cookie)
                .bodyAsString();
        assertThat(emails)
                .contains("data-email=\"" + failed + "\"")
                .contains("<li>bounced ")
                .doesNotContain(">Requeue</button>");
        HttpResponse<Buffer> requeue = postForm("/admin/emails/" + failed + "/requeue", cookie, base(), "csrf=" + csrf);
        assertThat(requeue.statusCode()).as("owners only, as the API").isEqualTo(403);
        assertThat(Sql.admin().value("SELECT status FROM email_outbox WHERE id = ?", failed))
                .isEqualTo("failed");
    }

    @Test
    void theConsoleEndsAtOnceWhenItsServerSessionIsRevoked() throws Exception {
        String cookie = cookieOf(signIn(OWNER));
        assertThat(get("/admin/accounts", cookie).statusCode()).isEqualTo(200);
        Sql.admin()
                .update(
                        "UPDATE sessions SET revoked_at = now() WHERE user_id = (SELECT id FROM users WHERE email = ?)",
                        OWNER);
        Thread.sleep(SessionStateCache.MAX_AGE.toMillis() + 100); // the session-state cache's age
        HttpResponse<Buffer> after = get("/admin/accounts", cookie);
        assertThat(after.statusCode()).isEqualTo(401);
        assertThat(after.bodyAsString()).contains("<h1>Sign in</h1>").doesNotContain(business);
    }

    @Test
    void anOwnerSeesEachEmailsEventsAndRequeuesAFailedOneWhichThenShowsQueued() throws Exception {
        String recipient = "bounced-" + TAG + "@example.test";
        UUID id = failedEmail(recipient);
        browser.get(base() + "/admin");
        fillSignIn(OWNER);
        browser.findElement(By.linkText("Emails")).click();
        assertThat(heading("Emails")).isEqualTo("Emails");
        browser.findElement(By.id("f-recipient")).sendKeys(recipient);
        WebElement filter = button("Filter");
        filter.click();
        // The row may be on the unfiltered page too: read it only from the filtered one.
        new WebDriverWait(browser, Duration.ofSeconds(15)).until(gone(filter));
        WebElement row = emailRow(id);
        assertThat(row.findElement(By.className("status")).getText()).isEqualTo("failed");
        assertThat(row.findElement(By.className("events")).getText())
                .as("the provider's events about the message")
                .startsWith("bounced ");
        screenshot("emails-failed");

        WebElement requeue = row.findElement(By.tagName("button"));
        assertThat(requeue.getText()).isEqualTo("Requeue");
        requeue.click();
        awaitOutcome(requeue);
        assertThat(outcome()).isEqualTo("Email " + id + " is queued again.");
        assertThat(Sql.admin()
                        .count(
                                "SELECT count(*) FROM audit_log WHERE action = 'email.requeued' AND target_id = ?",
                                id.toString()))
                .as("audited as the API's requeue is")
                .isEqualTo(1);
        // The dispatcher takes it at once and, this run's mail server being down, puts it back: queued.
        String filtered = base() + "/admin/emails?recipient=" + URLEncoder.encode(recipient, StandardCharsets.UTF_8);
        new WebDriverWait(browser, Duration.ofSeconds(15)).until(d -> {
            d.get(filtered);
            return emailRow(id).findElement(By.className("status")).getText().equals("queued");
        });
        assertThat(emailRow(id).findElements(By.tagName("button")))
                .as("only a failed message has Requeue")
                .isEmpty();
        screenshot("emails-requeued");

        String cookie = cookieOf(signIn(OWNER));
        String csrf = csrfOf(get("/admin/emails", cookie).bodyAsString());
        HttpResponse<Buffer> again = postForm("/admin/emails/" + id + "/requeue", cookie, base(), "csrf=" + csrf);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.bodyAsString()).contains("Only a failed email can be requeued");

        button("Sign out").click();
        assertThat(heading("Sign in")).isEqualTo("Sign in");
    }

    @Test
    void aRefusedConfirmComesBackWithTheTypedValuesBesideTheErrorsWithoutScript() {
        String cookie = cookieOf(signIn(OWNER));
        String path = "/admin/accounts/" + trader.accountId() + "/actions";
        String csrf =
                csrfOf(get("/admin/accounts/" + trader.accountId(), cookie).bodyAsString());
        HttpResponse<Buffer> refused = postForm(
                path,
                cookie,
                base(),
                "csrf=" + csrf + "&action=refund&paymentIntentId=pi_" + TAG
                        + "&amountPence=-3&reason=goodwill+%3Cb%3E");
        assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(422);
        String html = refused.bodyAsString();
        Matcher dialog = Pattern.compile("<div id=\"dlg-refund\"[^>]*>").matcher(html);
        assertThat(dialog.find()).isTrue();
        assertThat(dialog.group())
                .as("open as the page arrives: no script needed")
                .contains("data-open")
                .doesNotContain("hidden");
        assertThat(html)
                .contains("id=\"refund-payment\" name=\"paymentIntentId\" value=\"pi_" + TAG + "\"")
                .contains("id=\"refund-reason\" name=\"reason\" value=\"goodwill &lt;b&gt;\"")
                .containsPattern("id=\"refund-amount\" name=\"amountPence\" value=\"-3\"[^>]* aria-invalid=\"true\" "
                        + "aria-describedby=\"refund-amount-error\" autofocus>")
                .contains("<p class=\"error field-error\" id=\"refund-amount-error\">");
        assertThat(html)
                .as("the other dialogs stay closed and empty")
                .containsPattern("<div id=\"dlg-suspend\"[^>]* hidden>")
                .contains("id=\"suspend-reason\" name=\"reason\" value=\"\"");
        assertThat(Sql.admin().value("SELECT status FROM accounts WHERE id = ?", trader.accountId()))
                .isEqualTo("active");
    }

    @Test
    void theAdminApiStillAnswers401WithoutAToken() {
        assertThat(TestServer.await(server.request(GET, "/admin/api/accounts").send())
                        .statusCode())
                .isEqualTo(401);
    }

    // ------------------------------------------------------------------------------ helpers

    /** A staff or outside user who signed up through the API, verified, and set their password by reset. */
    static void staffWithPassword(String email) {
        staffWithPassword(server, email);
    }

    static void staffWithPassword(TestServer on, String email) {
        assertThat(on.signUp(email, PASSWORD).statusCode()).isEqualTo(201);
        Sql.admin()
                .update(
                        "UPDATE users SET email_verified_at = now(), password_set_by_reset_at = now() - interval '1 minute' WHERE email = ?",
                        email);
    }

    /** The Sign in form filled and sent from the page the browser is on; lands on Accounts. */
    static void fillSignIn(String email) {
        browser.findElement(By.id("email")).sendKeys(email);
        browser.findElement(By.id("password")).sendKeys(PASSWORD);
        button("Sign in").click();
        assertThat(heading("Accounts")).isEqualTo("Accounts");
    }

    /** A message that failed for good, with the provider's bounce recorded against it. */
    static UUID failedEmail(String recipient) {
        UUID id = UUID.fromString(Sql.admin()
                .string(
                        "INSERT INTO email_outbox (account_id, template, recipient, model, dedupe_key, status, attempts, last_error) "
                                + "VALUES (?, 'password_reset', ?, '{\"resetUrl\": \"https://app.test/reset-password?token=t\"}'::jsonb, "
                                + "?, 'failed', 5, '550 5.1.1 mailbox unavailable') RETURNING id::text",
                        trader.accountId(),
                        recipient,
                        "console-test:" + UUID.randomUUID()));
        Sql.admin()
                .update(
                        "INSERT INTO email_events (message_id, account_id, type, occurred_at, webhook_id) VALUES (?, ?, 'bounced', now(), ?)",
                        id,
                        trader.accountId(),
                        "console-test:" + UUID.randomUUID());
        return id;
    }

    static WebElement emailRow(UUID id) {
        return browser.findElement(By.cssSelector("#emails tr[data-email='" + id + "']"));
    }

    /** Opens the action's dialog, types each input (id, value, …; focus must be on the first) and confirms. */
    static void act(String button, String... inputs) {
        WebElement opener = button(button);
        opener.click();
        WebElement dialog = browser.findElement(By.id(opener.getAttribute("data-dialog")));
        assertThat(dialog.getAttribute("role")).isEqualTo("dialog");
        assertThat(dialog.isDisplayed()).isTrue();
        assertThat(browser.switchTo().activeElement())
                .as("focus moves into the dialog")
                .isEqualTo(dialog.findElement(By.id(inputs[0])));
        for (int i = 0; i < inputs.length; i += 2) {
            dialog.findElement(By.id(inputs[i])).sendKeys(inputs[i + 1]);
        }
        dialog.findElements(By.tagName("button")).stream()
                .filter(b -> b.getText().equals("Confirm"))
                .findFirst()
                .orElseThrow()
                .click();
        awaitOutcome(dialog);
    }

    /**
     * The answer to a form sent from {@code onOldPage}: first that page goes (the page it
     * replaces may itself show an outcome, from the action before), then the new one's outcome.
     */
    static void awaitOutcome(WebElement onOldPage) {
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(15));
        wait.until(gone(onOldPage));
        wait.ignoring(WebDriverException.class)
                .until(d -> !d.findElements(By.cssSelector("#outcome .result, #outcome .error"))
                        .isEmpty());
    }

    /**
     * {@code element}'s page has been replaced. Selenium's stalenessOf asks the element whether it
     * is enabled and counts only a stale-element answer; Chromium 156.0.8078.129 answers an element
     * of a page being replaced with "Node with given id does not belong to the document" instead,
     * which means the same and is counted too. Any other error still fails the wait.
     */
    static ExpectedCondition<Boolean> gone(WebElement element) {
        return d -> {
            try {
                element.isEnabled();
                return false;
            } catch (StaleElementReferenceException stale) {
                return true;
            } catch (WebDriverException e) {
                if (e.getMessage() != null && e.getMessage().contains("does not belong to the document")) {
                    return true;
                }
                throw e;
            }
        };
    }

    static String outcome() {
        return browser.findElement(By.id("outcome")).getText().trim();
    }

    static int awaitStatus(String token, int wanted) throws InterruptedException {
        int status = 0;
        for (int i = 0; i < 40; i++) {
            status = server.send(GET, "/api/v1/customers", token).statusCode();
            if (status == wanted) {
                break;
            }
            Thread.sleep(100);
        }
        return status;
    }

    static String base() {
        return base(server);
    }

    static String base(TestServer on) {
        return on.config.links().publicUrl().toString().replaceAll("/$", "");
    }

    /**
     * The page's heading, read inside the wait: right after a navigation the element found may
     * belong to the page being replaced, and reading it then fails; the wait tries again.
     */
    static String heading() {
        return new WebDriverWait(browser, Duration.ofSeconds(10))
                .ignoring(WebDriverException.class)
                .until(d -> d.findElement(By.tagName("h1")).getText());
    }

    /**
     * The page's heading once it says {@code expected}, or what it says after 10 s. Right after a
     * click the page that is leaving may still be the one read: a sign-out's form post was read
     * as the "Webhooks" page it was leaving.
     */
    static String heading(String expected) {
        try {
            return new WebDriverWait(browser, Duration.ofSeconds(10))
                    .ignoring(WebDriverException.class)
                    .until(d -> {
                        String h = d.findElement(By.tagName("h1")).getText();
                        return h.equals(expected) ? h : null;
                    });
        } catch (TimeoutException e) {
            return heading();
        }
    }

    static WebElement button(String name) {
        return browser.findElements(By.tagName("button")).stream()
                .filter(b -> b.getText().equals(name) && b.isDisplayed())
                .findFirst()
                .orElseThrow(() -> new AssertionError("no button " + name));
    }

    static void screenshot(String name) throws Exception {
        File shot = browser.getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    static HttpResponse<Buffer> signIn(String email) {
        return signIn(server, email);
    }

    /** The console's sign-in form posted to {@code on}. */
    static HttpResponse<Buffer> signIn(TestServer on, String email) {
        return postForm(
                on,
                "/admin/sign-in",
                "",
                base(on),
                "email=" + URLEncoder.encode(email, StandardCharsets.UTF_8) + "&password="
                        + URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8));
    }

    static HttpResponse<Buffer> postForm(String path, String cookie, String origin, String form) {
        return postForm(server, path, cookie, origin, form);
    }

    static HttpResponse<Buffer> postForm(TestServer on, String path, String cookie, String origin, String form) {
        var r = on.request(POST, path)
                .followRedirects(false)
                .putHeader("Origin", origin)
                .putHeader("Content-Type", "application/x-www-form-urlencoded");
        if (!cookie.isEmpty()) {
            r.putHeader("Cookie", cookie);
        }
        return TestServer.await(r.sendBuffer(Buffer.buffer(form)));
    }

    static HttpResponse<Buffer> get(String path, String cookie) {
        return get(server, path, cookie);
    }

    static HttpResponse<Buffer> get(TestServer on, String path, String cookie) {
        var r = on.request(GET, path).followRedirects(false);
        if (!cookie.isEmpty()) {
            r.putHeader("Cookie", cookie);
        }
        return TestServer.await(r.send());
    }

    static String cookieOf(HttpResponse<Buffer> r) {
        String set = r.getHeader("Set-Cookie");
        assertThat(set).as(r.bodyAsString()).isNotNull();
        return set.substring(0, set.indexOf(';'));
    }

    static String csrfOf(String html) {
        Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(html);
        assertThat(m.find()).isTrue();
        return m.group(1);
    }
}
