package tradersflow;

import static io.gatling.javaapi.http.HttpDsl.RawFileBodyPart;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;

/**
 * Settings shared by the simulations (system properties, as {@code mvn gatling:test -Dname=value}):
 * {@code baseUrl} (https://127.0.0.1:8443), {@code users} (each simulation's own default),
 * {@code seconds} (60), {@code tokens} (tokens.csv, written by the seeder).
 */
final class Load {
  static final String BASE_URL = System.getProperty("baseUrl", "https://127.0.0.1:8443");
  static final int SECONDS = Integer.getInteger("seconds", 60);
  static final String TOKENS = System.getProperty("tokens", "tokens.csv");

  private Load() {}

  static int users(int byDefault) {
    return Integer.getInteger("users", byDefault);
  }

  static double number(String property, double byDefault) {
    String v = System.getProperty(property);
    return v == null || v.isBlank() ? byDefault : Double.parseDouble(v);
  }

  /** HTTPS keep-alive, JSON, no caching, no warm-up request (the server's self-signed certificate is trusted). */
  static HttpProtocolBuilder protocol() {
    return http.baseUrl(BASE_URL)
        .acceptHeader("application/json")
        .contentTypeHeader("application/json")
        .disableCaching()
        .disableWarmUp();
  }

  /** One invoice of three lines for {@code #{customerId}}, as the web app sends one. */
  static final String INVOICE_BODY = "{\"customerId\":\"#{customerId}\",\"dueDate\":\"2027-01-31\",\"lines\":["
      + "{\"description\":\"Labour (hours)\",\"quantity\":2,\"unitPence\":4500},"
      + "{\"description\":\"Call-out\",\"quantity\":1,\"unitPence\":1250},"
      + "{\"description\":\"Copper pipe 15mm (m)\",\"quantity\":3,\"unitPence\":333}]}";

  /** A photo uploaded from {@code file} as the app sends one: 201, its id kept as {@code #{documentId}}. */
  static HttpRequestActionBuilder upload(String name, String file) {
    return http(name)
        .post("/api/v1/documents")
        .header("Authorization", "Bearer #{token}")
        .bodyPart(RawFileBodyPart("file", file).fileName("site-photo.jpg").contentType("image/jpeg"))
        .asMultipartForm()
        .check(status().is(201))
        .check(jsonPath("$.id").saveAs("documentId"));
  }
}
