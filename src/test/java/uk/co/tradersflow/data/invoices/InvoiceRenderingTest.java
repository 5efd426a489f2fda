package uk.co.tradersflow.data.invoices;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * An invoice's reply is rendered by the database on every write ({@code invoices.body_json},
 * V025) and served as it is: it must be the contract's object, field for field and in order,
 * whoever wrote the row, and only the database may write it.
 */
class InvoiceRenderingTest {
  static final List<String> FIELDS = List.of("id", "number", "customerId", "jobId", "status", "currency", "lines",
      "totalPence", "dueDate", "paymentUrl", "paidAt", "createdAt", "updatedAt");

  static TestServer server;
  static TestUsers users;

  @RegisterExtension
  static final ServerExtension lifecycle = ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

  private static JsonObject listed(TestUser user) {
    return server.send(GET, "/api/v1/invoices", user.token()).bodyAsJsonObject().getJsonArray("items").getJsonObject(0);
  }

  @Test
  void everyReplyIsTheContractsObjectFieldForFieldAndInOrder() {
    TestUser a = users.create();
    String customer = server.createCustomer(a.token());
    String job = server.send(POST, "/api/v1/jobs", a.token(), new JsonObject().put("customerId", customer).put("title", "Boiler"))
        .bodyAsJsonObject().getString("id");
    HttpResponse<Buffer> created = server.send(POST, "/api/v1/invoices", a.token(), new JsonObject()
        .put("customerId", customer).put("jobId", job).put("dueDate", "2027-01-31")
        .put("lines", new JsonArray().add(new JsonObject().put("description", "Labour").put("quantity", 2).put("unitPence", 4500))));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String id = created.bodyAsJsonObject().getString("id");

    for (JsonObject invoice : List.of(created.bodyAsJsonObject(),
        server.send(GET, "/api/v1/invoices/" + id, a.token()).bodyAsJsonObject(), listed(a))) {
      assertThat(new ArrayList<>(invoice.fieldNames())).containsExactlyElementsOf(FIELDS);
      assertThat(invoice.getString("id")).isEqualTo(id);
      assertThat(invoice.getString("number")).isEqualTo("INV-0001");
      assertThat(invoice.getString("customerId")).isEqualTo(customer);
      assertThat(invoice.getString("jobId")).isEqualTo(job);
      assertThat(invoice.getString("status")).isEqualTo("draft");
      assertThat(invoice.getString("currency")).isEqualTo("GBP");
      assertThat(invoice.getLong("totalPence")).isEqualTo(9000);
      assertThat(invoice.getString("dueDate")).isEqualTo("2027-01-31");
      assertThat(invoice.getValue("paymentUrl")).isNull();
      assertThat(invoice.getValue("paidAt")).isNull();
      String createdAt = invoice.getString("createdAt");
      assertThat(Instant.parse(createdAt).toString()).isEqualTo(createdAt);
    }
  }

  /** Writers other than the routes (a payment, a number past 9,999) get the row re-rendered too. */
  @Test
  void aRowChangedByAnyWriterIsServedAsItNowIs() throws SQLException {
    TestUser a = users.create();
    String customer = server.createCustomer(a.token());
    String id = server.send(POST, "/api/v1/invoices", a.token(), new JsonObject().put("customerId", customer))
        .bodyAsJsonObject().getString("id");
    Sql.admin().update("UPDATE invoices SET number = 12345, status = 'paid', paid_at = '2026-12-05T10:00:00.5Z', "
        + "payment_url = 'https://pay.example.test/p/\"x\"' WHERE id = '" + id + "'");
    JsonObject invoice = server.send(GET, "/api/v1/invoices/" + id, a.token()).bodyAsJsonObject();
    assertThat(invoice.getString("number")).isEqualTo("INV-12345");
    assertThat(invoice.getString("status")).isEqualTo("paid");
    assertThat(invoice.getString("paidAt")).isEqualTo("2026-12-05T10:00:00.500Z");
    assertThat(invoice.getString("paymentUrl")).isEqualTo("https://pay.example.test/p/\"x\"");
    assertThat(invoice.getValue("jobId")).isNull();
    assertThat(invoice.getValue("dueDate")).isNull();
    assertThat(listed(a)).isEqualTo(invoice);
  }

  @Test
  void onlyTheDatabaseWritesTheRendering() throws SQLException {
    TestUser a = users.create();
    server.send(POST, "/api/v1/invoices", a.token(), new JsonObject().put("customerId", server.createCustomer(a.token())));
    try (Connection c = server.env.asAppIn(a.accountId()); Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.executeUpdate("UPDATE invoices SET body_json = '{\"forged\":true}'"))
          .hasMessageContaining("permission denied");
    }
  }

  /**
   * Instants as {@link Instant#toString()} writes them (the server's format before V025): UTC, the
   * fraction in groups of three digits, none when it is zero, whatever the session's time zone.
   */
  @Test
  void instantsAreWrittenAsInstantToStringWritesThem() throws SQLException {
    Random random = new Random(20261205);
    long min = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond();
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    int[] units = {0, 1_000_000, 1000};  // whole seconds, milliseconds, microseconds: what PostgreSQL keeps
    List<String> expected = new ArrayList<>();
    for (String edge : List.of("1970-01-01T00:00:00Z", "2000-02-29T12:00:00.100Z", "2026-12-05T10:46:36.846225Z",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2026-03-29T00:59:59.000001Z")) {
      expected.add(edge);
    }
    for (int n = 0; n < 20_000; n++) {
      long seconds = min + (long) (random.nextDouble() * (max - min));
      int unit = units[random.nextInt(units.length)];
      int nanos = unit == 0 ? 0 : random.nextInt(1_000_000_000 / unit) * unit;
      expected.add(Instant.ofEpochSecond(seconds, nanos).toString());
    }
    List<String> written = new ArrayList<>();
    try (Connection c = server.env.admin()) {
      try (Statement s = c.createStatement()) {
        s.execute("SET TIME ZONE 'Pacific/Chatham'");
      }
      Array texts = c.createArrayOf("text", expected.toArray());
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT json_instant(t::timestamptz) FROM unnest(?::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n")) {
        ps.setArray(1, texts);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            written.add(rs.getString(1));
          }
        }
      }
    }
    assertThat(written).containsExactlyElementsOf(expected.stream().map(t -> '"' + t + '"').toList());
  }
}
