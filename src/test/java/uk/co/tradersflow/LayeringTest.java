package uk.co.tradersflow;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The package map, held by ArchUnit against the compiled main classes.
 *
 * <p><b>Kernel</b>: {@code platform..} (HTTP plumbing, database access, bus, crypto, logging,
 * metrics, and {@code platform.security}: the request's identity {@code Principal}, the audit's
 * {@code Actor}/{@code ActorType}), {@code config} (settings) and {@code error} ({@code AppError},
 * {@code ErrorCode}, {@code FieldError}: the contract's error vocabulary, thrown everywhere and
 * answered by {@code platform.http.ProblemResponder}). The kernel names no capability and not
 * the composition root ({@code Main}, {@code MainVerticle}); anything a kernel class needs from a
 * capability comes in as a handler or function ({@code Api} takes the authentication guard as a
 * {@code Handler<RoutingContext>}).
 *
 * <p><b>Capabilities</b>: every other top-level package under {@code uk.co.tradersflow}
 * ({@code auth}, {@code audit}, {@code billing}, {@code data}, {@code email}, {@code storage},
 * ...). A capability may use the kernel freely. It may use another capability only through the
 * types listed in {@link #PUBLISHED}, each with the reason it is offered; nothing may depend on
 * the composition root, and the capabilities form no cycle. To let a capability use another one,
 * add the type to {@link #PUBLISHED} with its reason in the same change (prefer publishing a
 * {@code *Service}, never a {@code *Routes} or {@code *Repository}).
 *
 * <p>Each rule is also run against the small fixture packages under
 * {@code uk.co.tradersflow.layeringfixture} (test classes built to break it), so a rule that
 * stopped seeing violations would fail here too.
 */
class LayeringTest {
    private static final String ROOT = "uk.co.tradersflow";
    private static final Set<String> KERNEL = Set.of("platform", "config", "error");

    /**
     * The capability types other capabilities may use, by fully-qualified name, with why. Nested
     * types of a listed type are covered by it.
     */
    static final Map<String, String> PUBLISHED = new TreeMap<>(Map.ofEntries(
            Map.entry("audit.AuditLog", "every capability appends its audited actions in its own transaction"),
            Map.entry("audit.AuditEntry", "the entry those capabilities append"),
            Map.entry("email.EmailOutbox", "auth, billing, incident and ops queue mail in their own transaction"),
            Map.entry("email.OutgoingEmail", "the message they queue"),
            Map.entry("email.EmailTemplate", "incident notices name the template they queue"),
            Map.entry(
                    "email.QueuedEmail",
                    "the admin area's account page lists the account's last emails as the outbox holds them"),
            Map.entry("ratelimit.LoginThrottle", "auth's sign-in and password checks are throttled per subject"),
            Map.entry("ratelimit.RateLimiter", "auth's reset and verification mail is rate-limited"),
            Map.entry("data.invoices.Invoice", "billing sends and settles invoices it reads through the invoice owner"),
            Map.entry(
                    "data.invoices.StripePayment",
                    "the payment billing reports to the invoice owner when Stripe says one arrived"),
            Map.entry(
                    "data.invoices.InvoiceService",
                    "the invoice's one owner: billing marks it sent, attaches its payment link and marks it paid through it"),
            Map.entry(
                    "auth.AccountSuspension",
                    "ops, and the admin area's suspend and reinstate actions, suspend and restore accounts"),
            Map.entry("auth.SessionTermination", "ops ends sessions"),
            Map.entry("auth.JwtKeySet", "ops rotates the token signing keys"),
            Map.entry("auth.SessionIssuer", "admin's support sign-in links open impersonated sessions"),
            Map.entry("auth.SessionTokens", "the token pair a support sign-in link answers, as sign-in does"),
            Map.entry("auth.SecretTokens", "admin's one-time links use the same hashed 256-bit tokens"),
            Map.entry(
                    "billing.StripeGateway",
                    "retention cancels a deleted account's subscription; admin actions refund and extend trials"),
            Map.entry("storage.BlobStore", "retention deletes a deleted account's files"),
            Map.entry("incident.IncidentNoticeService", "ops queues incident notices"),
            Map.entry("auth.AuthServices", "the owners' console signs in and out through auth's own use cases"),
            Map.entry("auth.SignInService", "the console's sign-in is the API's: same throttle, lockout and audit"),
            Map.entry("auth.AuthLimits", "the console's sign-in spends the API's per-address sign-in budget"),
            Map.entry("auth.SessionService", "the console's sign-out ends its server session as the API's does"),
            Map.entry("auth.SessionStateCache", "the console checks its server session's live state on every request"),
            Map.entry("auth.SessionState", "the state the console reads to build the request's principal"),
            Map.entry("auth.EmailAddress", "the console's sign-in form normalises the address as the API does"),
            Map.entry("admin.AdminService", "the console's pages read through the admin area's read use cases"),
            Map.entry("admin.AccountQuery", "the console's accounts search"),
            Map.entry("admin.AccountSummary", "the console's accounts table"),
            Map.entry("admin.Analytics", "the console's analytics page"),
            Map.entry("admin.AuditQuery", "the console's audit log filters"),
            Map.entry("admin.actions.AdminActionsService", "the console's dialogs are the two-step actions"),
            Map.entry(
                    "admin.actions.AdminActionsModule",
                    "the composition root shares one actions service with the console"),
            Map.entry("audit.AuditChain", "the console's Verify chain"),
            Map.entry("email.EmailAdminService", "the console's Emails page"),
            Map.entry("email.EmailHealth", "the console's email health figures"),
            Map.entry("email.EmailLogEntry", "the console's email log rows"),
            Map.entry("email.EmailLogQuery", "the console's email log filters"),
            Map.entry("billing.WebhookAdminService", "the console's Webhooks page and Replay"),
            Map.entry("admin.report.CsvReportService", "the console's Export streams the prepared CSV download"),
            Map.entry("billing.StripeEventStore", "the console builds the webhook admin service over the event log")));

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(ROOT);

    private static final JavaClasses FIXTURE = new ClassFileImporter().importPackages(ROOT + ".layeringfixture");

    @Test
    void kernelDependsOnNoCapabilityNorOnTheCompositionRoot() {
        kernelIsSelfContained(ROOT).check(MAIN);
    }

    @Test
    void capabilitiesFormNoCycle() {
        noCycles(ROOT).check(MAIN);
    }

    /** The same for the packages inside the kernel and inside {@code data}, which hold several modules each. */
    @Test
    void kernelAndDataSubpackagesFormNoCycle() {
        noCycles(ROOT + ".platform").check(MAIN);
        noCycles(ROOT + ".data").check(MAIN);
    }

    @Test
    void capabilitiesMeetOnlyThroughPublishedTypes() {
        crossingsArePublished(ROOT, PUBLISHED.keySet()).check(MAIN);
    }

    @Test
    void everyPublishedTypeExistsAndIsACapabilityType() {
        for (String name : PUBLISHED.keySet()) {
            assertThat(MAIN.contain(ROOT + "." + name))
                    .as(name + " is listed as published but does not exist")
                    .isTrue();
            assertThat(capabilityOf(ROOT, ROOT + "." + name)).as(name).isPresent();
        }
    }

    @Test
    void eachRuleCatchesTheViolationBuiltForIt() {
        String root = ROOT + ".layeringfixture";
        assertThatThrownBy(() -> kernelIsSelfContained(root).check(FIXTURE))
                .hasMessageContaining("KernelNamingACapability")
                .hasMessageContaining("billing.Invoicing");
        assertThatThrownBy(() -> noCycles(root).check(FIXTURE)).hasMessageContaining("Cycle detected");
        assertThatThrownBy(() ->
                        crossingsArePublished(root, Set.of("billing.Invoicing")).check(FIXTURE))
                .hasMessageContaining("billing.Invoicing")
                .hasMessageContaining("email.Mailer")
                .hasMessageNotContaining("uses " + root + ".billing.Invoicing ");
        crossingsArePublished(root, Set.of("billing.Invoicing", "email.Mailer", "billing.Ledger"))
                .check(FIXTURE);
    }

    private static ArchRule kernelIsSelfContained(String root) {
        String[] kernel = KERNEL.stream().map(k -> root + "." + k + "..").toArray(String[]::new);
        return classes()
                .that()
                .resideInAnyPackage(kernel)
                .should()
                .onlyDependOnClassesThat(resideOutsideOfPackage(root + "..").or(resideInAnyPackage(kernel)))
                .because("the kernel is what capabilities share; it takes handlers, never capability classes");
    }

    private static ArchRule noCycles(String root) {
        return slices().matching(root + ".(*)..").should().beFreeOfCycles();
    }

    private static ArchRule crossingsArePublished(String root, Set<String> published) {
        ArchCondition<JavaClass> onlyPublished =
                new ArchCondition<>("use other capabilities only through published types") {
                    @Override
                    public void check(JavaClass origin, ConditionEvents events) {
                        Optional<String> from = capabilityOf(root, origin.getName());
                        for (Dependency d : origin.getDirectDependenciesFromSelf()) {
                            JavaClass target = d.getTargetClass().getBaseComponentType();
                            String name = target.getName();
                            if (!name.startsWith(root + ".")) {
                                continue;
                            }
                            if (target.getPackageName().equals(root)) {
                                events.add(SimpleConditionEvent.violated(
                                        origin,
                                        origin.getName() + " uses the composition root " + name + ": "
                                                + d.getDescription()));
                                continue;
                            }
                            Optional<String> to = capabilityOf(root, name);
                            if (to.isEmpty() || to.equals(from)) {
                                continue;
                            }
                            String topLevel = name.substring(root.length() + 1).replaceFirst("\\$.*", "");
                            if (!published.contains(topLevel)) {
                                events.add(SimpleConditionEvent.violated(
                                        origin,
                                        origin.getName() + " uses " + name + " which " + to.get()
                                                + " does not publish: " + d.getDescription()));
                            }
                        }
                    }
                };
        return classes()
                .that()
                .resideInAPackage(root + "..")
                .and()
                .resideOutsideOfPackage(root)
                .should(onlyPublished);
    }

    /** The capability a class belongs to (its first package below the root), or empty for the kernel and the root. */
    private static Optional<String> capabilityOf(String root, String className) {
        String rest = className.substring(root.length() + 1);
        int dot = rest.indexOf('.');
        if (dot < 0) {
            return Optional.empty();
        }
        String top = rest.substring(0, dot);
        return KERNEL.contains(top) ? Optional.empty() : Optional.of(top);
    }
}
