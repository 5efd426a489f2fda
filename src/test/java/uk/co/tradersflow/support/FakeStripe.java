package uk.co.tradersflow.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import uk.co.tradersflow.billing.StripeSignature;

/**
 * The one fake in the test suite: a local HTTP server answering the few Stripe API calls the
 * server makes with Stripe-shaped JSON, replaying responses for a repeated Idempotency-Key as
 * Stripe does, and recording every request (form fields, Idempotency-Key, Stripe-Account). It
 * also builds webhook events and signs them exactly as Stripe signs them. {@link #down} makes
 * it drop every connection without an answer; {@link #loseAnswers} drops the answer of writes it
 * has performed; {@link #slow} makes it hold the answers to some paths back, as a Stripe in
 * trouble does. Refunds of payment intents, which it also holds, and subscription updates
 * ({@code trial_end}) are answered as Stripe answers them, a refund above what is left refused
 * (400) with Stripe's message.
 */
public final class FakeStripe implements AutoCloseable {
    public record Request(
            String method, String path, Map<String, String> form, String idempotencyKey, String stripeAccount) {}

    private final HttpServer server;
    public final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, String> idempotent = new ConcurrentHashMap<>();
    /** Subscriptions as Stripe holds them now; tests change them and send events. */
    public final Map<String, JsonObject> subscriptions = new ConcurrentHashMap<>();

    public final Map<String, JsonObject> checkoutSessions = new ConcurrentHashMap<>();
    public final Map<String, JsonObject> accounts = new ConcurrentHashMap<>();
    /** Runs while a payment link is being created, before Stripe answers: a test's way into the race window. */
    public volatile Runnable whileCreatingPaymentLink = () -> {};
    /**
     * Runs with the path of a subscription or account being retrieved, after its answer is taken and
     * before it is sent: what changes here (at Stripe or in the database) happens while the answer is in flight.
     */
    public volatile java.util.function.Consumer<String> whileRetrieving = path -> {};
    /** Payment links created, by id, with their {@code active} flag as Stripe holds it. */
    public final Map<String, JsonObject> paymentLinks = new ConcurrentHashMap<>();

    /** Payment intents by id, each with its one charge as {@code latest_charge} (amount, amount_refunded). */
    public final Map<String, JsonObject> paymentIntents = new ConcurrentHashMap<>();
    /** Refunds created, by id. */
    public final Map<String, JsonObject> refunds = new ConcurrentHashMap<>();
    /**
     * How many of the next write requests (POST) are performed, and their answer kept for their
     * Idempotency-Key, but never answered: the connection is dropped, as a timeout after Stripe
     * acted looks to the caller.
     */
    public final java.util.concurrent.atomic.AtomicInteger loseAnswers =
            new java.util.concurrent.atomic.AtomicInteger();

    private volatile boolean down;
    /** Path prefixes whose answers are held back, and for how long. */
    private final Map<String, java.time.Duration> delays = new ConcurrentHashMap<>();

    public FakeStripe() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        // A thread per request in flight: answers held back by slow() must not queue the others.
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-stripe");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    public String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void down(boolean down) {
        this.down = down;
    }

    /**
     * Answers requests whose path starts with {@code pathPrefix} only after {@code delay} (each
     * request is recorded when it arrives); {@link java.time.Duration#ZERO} makes them prompt again.
     */
    public void slow(String pathPrefix, java.time.Duration delay) {
        if (delay.isZero()) {
            delays.remove(pathPrefix);
        } else {
            delays.put(pathPrefix, delay);
        }
    }

    public List<Request> requests(String method, String path) {
        return requests.stream()
                .filter(r -> r.method().equals(method) && r.path().equals(path))
                .toList();
    }

    /** The requests to {@code method path} whose form sets {@code metadata[key]} to {@code value}. */
    public List<Request> requestsWithMetadata(String method, String path, String key, Object value) {
        return requests(method, path).stream()
                .filter(r -> String.valueOf(value).equals(r.form().get("metadata[" + key + "]")))
                .toList();
    }

    public JsonObject subscription(String id, String customer, String status, long trialEnd, long periodEnd) {
        JsonObject item = new JsonObject()
                .put("id", "si_" + id.substring(4))
                .put("object", "subscription_item")
                .put("current_period_start", periodEnd - 30 * 86400)
                .put("current_period_end", periodEnd)
                .put("price", new JsonObject().put("id", "price_test").put("object", "price"));
        JsonObject sub = new JsonObject()
                .put("id", id)
                .put("object", "subscription")
                .put("customer", customer)
                .put("status", status)
                .put("trial_end", trialEnd)
                .put("cancel_at_period_end", false)
                .put("created", Instant.now().getEpochSecond())
                .put("livemode", false)
                .put("metadata", new JsonObject())
                .put(
                        "items",
                        new JsonObject()
                                .put("object", "list")
                                .put("has_more", false)
                                .put("url", "/v1/subscription_items?subscription=" + id)
                                .put("data", new JsonArray().add(item)));
        subscriptions.put(id, sub);
        return sub;
    }

    /** A succeeded payment of {@code amount} minor units by {@code customer}, nothing refunded yet. */
    public JsonObject paymentIntent(String id, String customer, long amount) {
        JsonObject charge = new JsonObject()
                .put("id", "ch_" + id.substring(3))
                .put("object", "charge")
                .put("amount", amount)
                .put("amount_refunded", 0L)
                .put("currency", "gbp")
                .put("customer", customer)
                .put("payment_intent", id);
        JsonObject pi = new JsonObject()
                .put("id", id)
                .put("object", "payment_intent")
                .put("amount", amount)
                .put("amount_received", amount)
                .put("currency", "gbp")
                .put("customer", customer)
                .put("status", "succeeded")
                .put("latest_charge", charge);
        paymentIntents.put(id, pi);
        return pi;
    }

    public JsonObject account(String id, boolean charges, boolean payouts) {
        JsonObject acct = new JsonObject()
                .put("id", id)
                .put("object", "account")
                .put("type", "express")
                .put("country", "GB")
                .put("charges_enabled", charges)
                .put("payouts_enabled", payouts)
                .put("details_submitted", charges)
                .put("metadata", new JsonObject());
        accounts.put(id, acct);
        return acct;
    }

    /** A webhook event as Stripe sends it; {@code account} is set for events from a connected account. */
    public static JsonObject event(String type, JsonObject object, String account, String apiVersion) {
        JsonObject e = new JsonObject()
                .put("id", "evt_" + UUID.randomUUID().toString().replace("-", ""))
                .put("object", "event")
                .put("api_version", apiVersion)
                .put("created", Instant.now().getEpochSecond())
                .put("data", new JsonObject().put("object", object))
                .put("livemode", false)
                .put("pending_webhooks", 1)
                .put("request", new JsonObject().putNull("id").putNull("idempotency_key"))
                .put("type", type);
        if (account != null) {
            e.put("account", account);
        }
        return e;
    }

    public static String sign(String secret, long timestamp, String body) {
        return StripeSignature.sign(secret, timestamp, body.getBytes(StandardCharsets.UTF_8));
    }

    private void handle(HttpExchange ex) throws IOException {
        if (down) {
            ex.close();
            return;
        }
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
        String account = ex.getRequestHeaders().getFirst("Stripe-Account");
        // A GET carries its parameters in the query string, as stripe-java sends a list request.
        Map<String, String> form = parse(
                method.equals("GET") && ex.getRequestURI().getRawQuery() != null
                        ? ex.getRequestURI().getRawQuery()
                        : body);
        requests.add(new Request(method, path, form, key, account));
        for (Map.Entry<String, java.time.Duration> d : delays.entrySet()) {
            if (path.startsWith(d.getKey())) {
                try {
                    Thread.sleep(d.getValue().toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        String cacheKey = key == null ? null : account + "|" + key;
        String cached = cacheKey == null ? null : idempotent.get(cacheKey);
        int status = 200;
        String answer;
        if (cached != null) {
            answer = cached;
        } else {
            JsonObject json = respond(method, path, form);
            if (json.containsKey("error")) {
                status = "resource_missing".equals(json.getJsonObject("error").getString("code")) ? 404 : 400;
            }
            answer = json.encode();
            if (cacheKey != null && status == 200) {
                String prior = idempotent.putIfAbsent(cacheKey, answer);
                answer = prior != null ? prior : answer;
            }
        }
        if (method.equals("POST") && loseAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            ex.close();
            return;
        }
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.getResponseHeaders()
                .add("Request-Id", "req_" + UUID.randomUUID().toString().replace("-", ""));
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private JsonObject respond(String method, String path, Map<String, String> form) {
        long now = Instant.now().getEpochSecond();
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 14);
        if (method.equals("POST") && path.equals("/v1/customers")) {
            return new JsonObject()
                    .put("id", "cus_" + suffix)
                    .put("object", "customer")
                    .put("created", now)
                    .put("email", form.get("email"))
                    .put("livemode", false)
                    .put("metadata", new JsonObject());
        }
        if (method.equals("POST") && path.equals("/v1/checkout/sessions")) {
            String id = "cs_test_" + suffix;
            JsonObject session = new JsonObject()
                    .put("id", id)
                    .put("object", "checkout.session")
                    .put("mode", form.get("mode"))
                    .put("customer", form.get("customer"))
                    .put("status", "open")
                    .put("created", now)
                    .put("url", "https://checkout.stripe.com/c/pay/" + id);
            checkoutSessions.put(id, session);
            return session;
        }
        if (method.equals("GET") && path.equals("/v1/checkout/sessions")) {
            JsonArray data = new JsonArray();
            checkoutSessions.values().stream()
                    .filter(cs -> cs.getString("customer").equals(form.get("customer")))
                    .filter(cs ->
                            form.get("status") == null || cs.getString("status").equals(form.get("status")))
                    .forEach(data::add);
            return new JsonObject()
                    .put("object", "list")
                    .put("url", "/v1/checkout/sessions")
                    .put("has_more", false)
                    .put("data", data);
        }
        if (method.equals("POST") && path.startsWith("/v1/checkout/sessions/") && path.endsWith("/expire")) {
            JsonObject session = checkoutSessions.get(
                    path.substring("/v1/checkout/sessions/".length(), path.length() - "/expire".length()));
            return session != null ? session.put("status", "expired") : notFound("checkout session");
        }
        if (method.equals("POST") && path.equals("/v1/billing_portal/sessions")) {
            return new JsonObject()
                    .put("id", "bps_" + suffix)
                    .put("object", "billing_portal.session")
                    .put("customer", form.get("customer"))
                    .put("url", "https://billing.stripe.com/p/session/test_" + suffix);
        }
        if (method.equals("POST") && path.equals("/v1/accounts")) {
            return account("acct_" + suffix, false, false);
        }
        if (method.equals("POST") && path.equals("/v1/account_links")) {
            return new JsonObject()
                    .put("object", "account_link")
                    .put("created", now)
                    .put("expires_at", now + 300)
                    .put("url", "https://connect.stripe.com/setup/e/" + form.get("account") + "/" + suffix);
        }
        if (method.equals("POST") && path.equals("/v1/payment_links")) {
            whileCreatingPaymentLink.run();
            JsonObject metadata = new JsonObject();
            form.forEach((k, v) -> {
                if (k.startsWith("metadata[")) {
                    metadata.put(k.substring(9, k.length() - 1), v);
                }
            });
            JsonObject link = new JsonObject()
                    .put("id", "plink_" + suffix)
                    .put("object", "payment_link")
                    .put("active", true)
                    .put("livemode", false)
                    .put("metadata", metadata)
                    .put("url", "https://buy.stripe.com/test_" + suffix);
            paymentLinks.put(link.getString("id"), link);
            return link;
        }
        if (method.equals("POST") && path.startsWith("/v1/payment_links/")) {
            JsonObject link = paymentLinks.get(path.substring("/v1/payment_links/".length()));
            if (link == null) {
                return notFound("payment_link");
            }
            if (form.containsKey("active")) {
                link.put("active", Boolean.parseBoolean(form.get("active")));
            }
            return link;
        }
        if (method.equals("DELETE") && path.startsWith("/v1/customers/")) {
            return new JsonObject()
                    .put("id", path.substring("/v1/customers/".length()))
                    .put("object", "customer")
                    .put("deleted", true);
        }
        if (method.equals("DELETE") && path.startsWith("/v1/subscriptions/")) {
            JsonObject sub = subscriptions.get(path.substring("/v1/subscriptions/".length()));
            return sub != null ? sub.put("status", "canceled") : notFound("subscription");
        }
        if (method.equals("GET") && path.equals("/v1/subscriptions")) {
            JsonArray data = new JsonArray();
            subscriptions.values().stream()
                    .filter(sub -> sub.getString("customer").equals(form.get("customer")))
                    .filter(sub -> "all".equals(form.get("status"))
                            ? true
                            : form.get("status") == null
                                    ? !sub.getString("status").equals("canceled")
                                    : sub.getString("status").equals(form.get("status")))
                    .forEach(data::add);
            return new JsonObject()
                    .put("object", "list")
                    .put("url", "/v1/subscriptions")
                    .put("has_more", false)
                    .put("data", data);
        }
        if (method.equals("GET") && path.startsWith("/v1/subscriptions/")) {
            JsonObject sub = subscriptions.get(path.substring("/v1/subscriptions/".length()));
            JsonObject answer = sub != null ? sub.copy() : notFound("subscription");
            whileRetrieving.accept(path);
            return answer;
        }
        if (method.equals("POST") && path.startsWith("/v1/subscriptions/")) {
            JsonObject sub = subscriptions.get(path.substring("/v1/subscriptions/".length()));
            if (sub == null) {
                return notFound("subscription");
            }
            if (form.containsKey("trial_end")) {
                sub.put("trial_end", Long.parseLong(form.get("trial_end")));
            }
            return sub.copy();
        }
        if (method.equals("GET") && path.startsWith("/v1/payment_intents/")) {
            JsonObject pi = paymentIntents.get(path.substring("/v1/payment_intents/".length()));
            return pi != null
                    ? pi.copy()
                    : notFound("payment_intent: " + path.substring("/v1/payment_intents/".length()));
        }
        if (method.equals("POST") && path.equals("/v1/refunds")) {
            JsonObject pi = paymentIntents.get(form.get("payment_intent"));
            if (pi == null) {
                return notFound("payment_intent: " + form.get("payment_intent"));
            }
            JsonObject charge = pi.getJsonObject("latest_charge");
            long left = charge.getLong("amount") - charge.getLong("amount_refunded");
            long amount = form.containsKey("amount") ? Long.parseLong(form.get("amount")) : left;
            if (amount > left) {
                return refused(
                        "amount_too_large",
                        "Refund amount (£" + String.format("%.2f", amount / 100.0)
                                + ") is greater than unrefunded amount on charge (£"
                                + String.format("%.2f", left / 100.0) + ")");
            }
            charge.put("amount_refunded", charge.getLong("amount_refunded") + amount);
            JsonObject refund = new JsonObject()
                    .put("id", "re_" + suffix)
                    .put("object", "refund")
                    .put("amount", amount)
                    .put("currency", "gbp")
                    .put("payment_intent", pi.getString("id"))
                    .put("charge", charge.getString("id"))
                    .put("status", "succeeded")
                    .put("created", now);
            refunds.put(refund.getString("id"), refund);
            return refund;
        }
        if (method.equals("GET") && path.startsWith("/v1/accounts/")) {
            JsonObject acct = accounts.get(path.substring("/v1/accounts/".length()));
            JsonObject answer = acct != null ? acct.copy() : notFound("account");
            whileRetrieving.accept(path);
            return answer;
        }
        return notFound("route");
    }

    /** Stripe declining a request on its merits (HTTP 400), with its own message. */
    private static JsonObject refused(String code, String message) {
        return new JsonObject()
                .put(
                        "error",
                        new JsonObject()
                                .put("type", "invalid_request_error")
                                .put("code", code)
                                .put("message", message));
    }

    private static JsonObject notFound(String what) {
        return new JsonObject()
                .put(
                        "error",
                        new JsonObject()
                                .put("type", "invalid_request_error")
                                .put("code", "resource_missing")
                                .put("message", "No such " + what));
    }

    private static Map<String, String> parse(String body) {
        Map<String, String> form = new LinkedHashMap<>();
        if (body.isEmpty()) {
            return form;
        }
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            form.put(k, v);
        }
        return form;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
