package uk.co.tradersflow.platform.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import uk.co.tradersflow.support.PromQl;
import uk.co.tradersflow.support.Scrape;

/**
 * conf/prometheus/alerts.yml holds together: every alert is labelled and annotated as the
 * alerting pipeline expects, its runbook link lands on a heading of docs/runbook.md, its
 * promtool test has a firing and a quiet case, and no rule reads a metric the server does not
 * export (a renamed metric would otherwise silence its alert for good).
 */
class AlertRulesTest {
    static final Path RULES = Path.of("conf/prometheus/alerts.yml");
    static final Path RULE_TESTS = Path.of("conf/prometheus/alerts.test.yml");
    static final Path RUNBOOK = Path.of("docs/runbook.md");
    static final Set<String> CATEGORIES =
            Set.of("errors", "latency", "webhooks", "email", "security", "availability", "capacity");
    static final Set<String> SEVERITIES = Set.of("page", "warning");
    /** Series Prometheus makes itself for every target, not the server. */
    static final Set<String> SYNTHETIC = Set.of("up");

    record Rule(String name, String expr, Map<String, Object> labels, Map<String, Object> annotations, boolean alert) {}

    @SuppressWarnings("unchecked")
    static List<Rule> rules() throws IOException {
        Map<String, Object> doc = new Yaml().load(Files.readString(RULES));
        List<Rule> rules = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
            for (Map<String, Object> r : (List<Map<String, Object>>) group.get("rules")) {
                boolean alert = r.containsKey("alert");
                rules.add(new Rule(
                        (String) (alert ? r.get("alert") : r.get("record")),
                        (String) r.get("expr"),
                        (Map<String, Object>) r.getOrDefault("labels", Map.of()),
                        (Map<String, Object>) r.getOrDefault("annotations", Map.of()),
                        alert));
            }
        }
        return rules;
    }

    static List<Rule> alerts() throws IOException {
        return rules().stream().filter(Rule::alert).toList();
    }

    /** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -. */
    static Set<String> runbookAnchors() throws IOException {
        Set<String> anchors = new HashSet<>();
        for (String line : Files.readAllLines(RUNBOOK)) {
            if (line.matches("^#{1,6} .*")) {
                anchors.add(line.replaceFirst("^#+ ", "")
                        .trim()
                        .toLowerCase(Locale.ROOT)
                        .replaceAll("[^a-z0-9 _-]", "")
                        .replace(' ', '-'));
            }
        }
        return anchors;
    }

    @Test
    void theRulesAsked() throws IOException {
        Set<String> names = new TreeSet<>();
        alerts().forEach(a -> names.add(a.name()));
        assertThat(names)
                .contains(
                        "AvailabilityBurnRateFast",
                        "AvailabilityBurnRateSlow",
                        "HighServerErrorRatio",
                        "ApiLatencyP99High",
                        "StripeWebhookHandlingFailing",
                        "StripeWebhooksStuck",
                        "EmailFailureRateHigh",
                        "EmailOutboxBacklog",
                        "FailedSignInSpike",
                        "LockoutSpike",
                        "WebhookSignatureRejections",
                        "AdminDenialsSpike",
                        "InstanceNotReady",
                        "EventLoopBlocked",
                        "TlsCertificateExpiringSoon",
                        "AuditSealingStalled",
                        "AuditCheckpointStale");
        Rule fast = alerts().stream()
                .filter(a -> a.name().equals("AvailabilityBurnRateFast"))
                .findFirst()
                .orElseThrow();
        assertThat(fast.expr()).contains("ratio_rate1h > (14.4 * 0.001)", "ratio_rate5m > (14.4 * 0.001)");
        Rule slow = alerts().stream()
                .filter(a -> a.name().equals("AvailabilityBurnRateSlow"))
                .findFirst()
                .orElseThrow();
        assertThat(slow.expr()).contains("ratio_rate6h > (6 * 0.001)", "ratio_rate30m > (6 * 0.001)");
    }

    @Test
    void everyAlertHasSeverityCategorySummaryAndARunbookHeading() throws IOException {
        Set<String> anchors = runbookAnchors();
        assertThat(alerts()).isNotEmpty().allSatisfy(a -> {
            assertThat(a.labels().get("severity")).as(a.name() + " severity").isIn(SEVERITIES.toArray());
            assertThat(a.labels().get("category")).as(a.name() + " category").isIn(CATEGORIES.toArray());
            assertThat((String) a.annotations().get("summary"))
                    .as(a.name() + " summary")
                    .isNotBlank();
            String url = (String) a.annotations().get("runbook_url");
            assertThat(url).as(a.name() + " runbook_url").startsWith("docs/runbook.md#");
            assertThat(anchors).as(a.name() + " runbook heading").contains(url.substring(url.indexOf('#') + 1));
        });
    }

    @Test
    void everyAlertHasAFiringAndAQuietPromtoolCase() throws IOException {
        String tests = Files.readString(RULE_TESTS);
        assertThat(alerts()).allSatisfy(a -> {
            assertThat(tests)
                    .as(a.name() + " fires in a test")
                    .containsPattern("alertname: " + a.name() + "\\n\\s+exp_alerts:\\n\\s+- exp_labels:");
            assertThat(tests)
                    .as(a.name() + " stays quiet in a test")
                    .containsPattern("alertname: " + a.name() + "\\n\\s+exp_alerts: \\[]");
        });
    }

    @Test
    void everyMetricTheRulesReadIsExportedByTheServer() throws IOException {
        Set<String> read = new TreeSet<>();
        rules().forEach(r -> read.addAll(PromQl.metricNames(r.expr())));
        read.removeAll(SYNTHETIC);
        assertThat(read).contains("tf_http_server_requests_seconds_count", "tf_security_events_total", "tf_ready");
        assertThat(Scrape.namesAfterASignedInRequest())
                .as("exported by /metrics")
                .containsAll(read);
    }

    @Test
    void metricNamesAreReadFromExpressionsNotFromLabelsOrFunctions() {
        assertThat(PromQl.metricNames(
                        "histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{route=~\"/api/.*\",le=\"1\"}[5m]))) > 1 "
                                + "and on (instance) b_total offset 5m unless tf:rec:rate5m"))
                .containsExactlyInAnyOrder("a_bucket", "b_total");
    }
}
