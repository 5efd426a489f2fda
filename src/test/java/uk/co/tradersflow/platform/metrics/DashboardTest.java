package uk.co.tradersflow.platform.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import uk.co.tradersflow.support.PromQl;
import uk.co.tradersflow.support.Scrape;

/**
 * conf/grafana/tradersflow.json is a dashboard Grafana can load: valid JSON, unique panel ids,
 * the sections operators look at, every query reading metrics the server exports (or the
 * recording rules of alerts.yml); and compose.yaml provisions it beside Prometheus with the rules.
 */
class DashboardTest {
    static final Path DASHBOARD = Path.of("conf/grafana/tradersflow.json");

    static JsonObject dashboard() throws IOException {
        return new JsonObject(Files.readString(DASHBOARD));
    }

    static List<JsonObject> panels(JsonObject dashboard) {
        List<JsonObject> panels = new ArrayList<>();
        for (Object p : dashboard.getJsonArray("panels")) {
            panels.add((JsonObject) p);
        }
        return panels;
    }

    static List<String> expressions(JsonObject dashboard) {
        List<String> exprs = new ArrayList<>();
        for (JsonObject p : panels(dashboard)) {
            JsonArray targets = p.getJsonArray("targets", new JsonArray());
            targets.forEach(t -> exprs.add(((JsonObject) t).getString("expr")));
        }
        return exprs;
    }

    @Test
    void theDashboardIsValidJsonWithTheSectionsOperatorsLookAt() throws IOException {
        JsonObject d = dashboard();
        assertThat(d.getString("uid")).isEqualTo("tradersflow");
        List<JsonObject> panels = panels(d);
        assertThat(panels.stream().map(p -> p.getInteger("id")).distinct().count())
                .isEqualTo(panels.size());
        assertThat(panels.stream()
                        .filter(p -> "row".equals(p.getString("type")))
                        .map(p -> p.getString("title")))
                .contains(
                        "Traffic",
                        "Errors and availability (SLO 99.9 %)",
                        "Latency by route",
                        "Stripe webhooks",
                        "Email health",
                        "Security events",
                        "Saturation");
        assertThat(panels).filteredOn(p -> !"row".equals(p.getString("type"))).allSatisfy(p -> {
            assertThat(p.getJsonArray("targets")).as(p.getString("title")).isNotEmpty();
            assertThat(p.getJsonObject("gridPos").getInteger("w")).isBetween(1, 24);
            assertThat(p.getJsonObject("datasource").getString("uid")).isEqualTo("prometheus");
        });
    }

    @Test
    void everyPanelReadsMetricsTheServerExports() throws IOException {
        Set<String> read = new TreeSet<>();
        expressions(dashboard()).forEach(e -> read.addAll(PromQl.metricNames(e)));
        read.removeAll(AlertRulesTest.SYNTHETIC);
        assertThat(read)
                .contains(
                        "tf_http_server_requests_seconds_bucket",
                        "tf_stripe_webhooks_total",
                        "tf_email_messages_total",
                        "tf_security_events_total",
                        "vertx_pool_queue_pending");
        assertThat(Scrape.namesAfterASignedInRequest()).containsAll(read);
        // Recording rules the panels use are defined in alerts.yml.
        Set<String> recorded = new TreeSet<>();
        AlertRulesTest.rules().stream().filter(r -> !r.alert()).forEach(r -> recorded.add(r.name()));
        expressions(dashboard()).stream()
                .flatMap(e -> java.util.regex.Pattern.compile("tf:[a-z0-9_:]+")
                        .matcher(e)
                        .results())
                .forEach(m -> assertThat(recorded).contains(m.group()));
    }

    @Test
    @SuppressWarnings("unchecked")
    void composeRunsPrometheusWithTheRulesAndGrafanaWithTheDashboard() throws IOException {
        Map<String, Object> compose = new Yaml().load(Files.readString(Path.of("compose.yaml")));
        Map<String, Object> services = (Map<String, Object>) compose.get("services");
        List<String> promVolumes = (List<String>) ((Map<String, Object>) services.get("prometheus")).get("volumes");
        List<String> grafanaVolumes = (List<String>) ((Map<String, Object>) services.get("grafana")).get("volumes");
        assertThat(promVolumes)
                .contains(
                        "./conf/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro",
                        "./conf/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
        assertThat(grafanaVolumes)
                .contains(
                        "./conf/grafana/provisioning:/etc/grafana/provisioning:ro",
                        "./conf/grafana/tradersflow.json:/var/lib/grafana/dashboards/tradersflow.json:ro");
        for (String volume :
                promVolumes.stream().filter(v -> v.startsWith("./")).toList()) {
            assertThat(Path.of(volume.substring(2, volume.indexOf(':'))))
                    .as(volume)
                    .exists();
        }
        for (String volume : grafanaVolumes) {
            assertThat(Path.of(volume.substring(2, volume.indexOf(':'))))
                    .as(volume)
                    .exists();
        }
        Map<String, Object> prometheus = new Yaml().load(Files.readString(Path.of("conf/prometheus/prometheus.yml")));
        assertThat((List<String>) prometheus.get("rule_files")).containsExactly("alerts.yml");
        Map<String, Object> provider =
                new Yaml().load(Files.readString(Path.of("conf/grafana/provisioning/dashboards/tradersflow.yml")));
        assertThat(provider.toString()).contains("path=/var/lib/grafana/dashboards");
        Map<String, Object> datasource =
                new Yaml().load(Files.readString(Path.of("conf/grafana/provisioning/datasources/prometheus.yml")));
        assertThat(datasource.toString()).contains("uid=prometheus", "url=http://prometheus:9090");
    }
}
