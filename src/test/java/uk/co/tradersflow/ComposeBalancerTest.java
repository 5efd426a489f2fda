package uk.co.tradersflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import uk.co.tradersflow.support.Haproxy;

/**
 * compose.yaml runs any number of servers behind the balancer (`docker compose up --scale
 * server=2`): the servers publish no port (replicas would collide), trust the balancer's fixed
 * address and only it, and HAProxy accepts the configuration compose gives it. No Docker engine
 * here: the balancer's very command line is checked by this machine's HAProxy (`haproxy -c`).
 */
class ComposeBalancerTest {
    @TempDir
    Path certs;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> compose() throws Exception {
        try (Reader reader = Files.newBufferedReader(Path.of("compose.yaml"), StandardCharsets.UTF_8)) {
            return new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void serversScaleBehindTheBalancerWhichTheyAloneTrust() throws Exception {
        Map<String, Object> services = (Map<String, Object>) compose().get("services");
        Map<String, Object> server = (Map<String, Object>) services.get("server");
        Map<String, Object> balancer = (Map<String, Object>) services.get("balancer");
        assertThat(server).as("a published port stops a second replica").doesNotContainKey("ports");
        assertThat((List<String>) balancer.get("ports")).contains("8443:8443", "8080:8080");
        String balancerAddress = ((Map<String, Map<String, String>>) balancer.get("networks"))
                .get("default")
                .get("ipv4_address");
        assertThat(((Map<String, String>) server.get("environment")).get("TF_TRUSTED_PROXIES"))
                .isEqualTo(balancerAddress + "/32");
        assertThat(server.get("stop_grace_period")).isEqualTo("30s");
    }

    @SuppressWarnings("unchecked")
    @Test
    void haproxyAcceptsTheConfigurationComposeGivesIt() throws Exception {
        assumeTrue(Haproxy.installed(), "haproxy is not installed (apt-get install -y haproxy)");
        Map<String, Object> balancer =
                (Map<String, Object>) ((Map<String, Object>) compose().get("services")).get("balancer");
        Path pem = certs.resolve("tls.pem");
        Process openssl = new ProcessBuilder(
                        "openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:P-256",
                        "-nodes",
                        "-days",
                        "1",
                        "-subj",
                        "/CN=localhost",
                        "-keyout",
                        certs.resolve("key.pem").toString(),
                        "-out",
                        certs.resolve("cert.pem").toString())
                .redirectErrorStream(true)
                .start();
        openssl.getInputStream().readAllBytes();
        assertThat(openssl.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Files.writeString(
                pem, Files.readString(certs.resolve("cert.pem")) + Files.readString(certs.resolve("key.pem")));

        List<String> command = new ArrayList<>();
        for (String arg : (List<String>) balancer.get("command")) {
            command.add(arg.replace(
                    "/usr/local/etc/haproxy",
                    Path.of("conf/haproxy").toAbsolutePath().toString()));
        }
        command.add(1, "-c");
        ProcessBuilder check = new ProcessBuilder(command).redirectErrorStream(true);
        for (Map.Entry<String, Object> e : ((Map<String, Object>) balancer.get("environment")).entrySet()) {
            check.environment().put(e.getKey(), String.valueOf(e.getValue()).replace("/certs/tls.pem", pem.toString()));
        }
        Process p = check.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("Configuration file is valid");
    }
}
