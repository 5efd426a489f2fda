package uk.co.tradersflow.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * Seeds many tradespeople for the load test: accounts, each with a user, a live session, a few
 * customers and 30 invoices of 3 lines, written straight into the database; then mints each
 * session's ES256 access token with the server's own signing key and writes them to
 * {@code target/tokens.csv} for Gatling's feeder.
 *
 * <p>Settings (system properties): {@code accounts} (200), {@code invoices} (30), {@code db}
 * (jdbc URL of the admin connection), {@code key} (the server's PKCS#8 PEM signing key,
 * {@code ../data/dev/jwt-private-key.pem} by default, i.e. the key a dev server generated).
 */
public final class SeedLoadTestData {
  public static void main(String[] args) throws Exception {
    int accounts = Integer.getInteger("accounts", 200);
    int invoicesPerAccount = Integer.getInteger("invoices", 30);
    String db = System.getProperty("db", "jdbc:postgresql://127.0.0.1:5432/tradersflow?user=postgres");
    PrivateKey key = readKey(Path.of(System.getProperty("key", "../data/dev/jwt-private-key.pem")));
    List<String> tokens = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(db)) {
      c.setAutoCommit(false);
      for (int a = 0; a < accounts; a++) {
        tokens.add(seedAccount(c, key, a, invoicesPerAccount));
      }
      c.commit();
    }
    Path out = Path.of("target/tokens.csv");
    Files.createDirectories(out.getParent());
    Files.writeString(out, "token\n" + String.join("\n", tokens) + "\n", StandardCharsets.UTF_8);
    System.out.printf("seeded %d accounts x %d invoices; tokens in %s%n", accounts, invoicesPerAccount, out);
  }

  private static String seedAccount(Connection c, PrivateKey key, int n, int invoices) throws SQLException, Exception {
    UUID account = UUID.randomUUID();
    UUID user = UUID.randomUUID();
    UUID session = UUID.randomUUID();
    exec(c, "INSERT INTO accounts (id, business_name) VALUES (?, ?)", account, "Load test trader " + n);
    exec(c, "INSERT INTO users (id, account_id, email, email_verified_at) VALUES (?, ?, ?, now())", user, account,
        "load-" + account + "@example.test");
    exec(c, "INSERT INTO sessions (id, account_id, user_id, expires_at) VALUES (?, ?, ?, now() + interval '1 day')", session, account, user);
    UUID customer = UUID.randomUUID();
    exec(c, "INSERT INTO customers (id, account_id, name, email) VALUES (?, ?, ?, ?)", customer, account, "Customer of " + n, "c@example.test");
    try (PreparedStatement inv = c.prepareStatement(
            "INSERT INTO invoices (id, account_id, number, customer_id, status, total_pence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
         PreparedStatement line = c.prepareStatement(
            "INSERT INTO invoice_lines (account_id, invoice_id, position, description, quantity, unit_pence) VALUES (?, ?, ?, ?, ?, ?)")) {
      for (int i = 1; i <= invoices; i++) {
        UUID invoice = UUID.randomUUID();
        inv.setObject(1, invoice);
        inv.setObject(2, account);
        inv.setInt(3, i);
        inv.setObject(4, customer);
        inv.setString(5, i % 3 == 0 ? "paid" : i % 3 == 1 ? "sent" : "draft");
        inv.setLong(6, 3 * 4500L);
        inv.setObject(7, OffsetDateTime.now(ZoneOffset.UTC).minusMinutes(invoices - i));
        inv.addBatch();
        for (int p = 0; p < 3; p++) {
          line.setObject(1, account);
          line.setObject(2, invoice);
          line.setInt(3, p);
          line.setString(4, "Labour, day " + (p + 1));
          line.setBigDecimal(5, java.math.BigDecimal.ONE);
          line.setLong(6, 4500);
          line.addBatch();
        }
      }
      inv.executeBatch();
      line.executeBatch();
    }
    exec(c, "INSERT INTO invoice_counters (account_id, last_number) VALUES (?, ?)", account, invoices);
    return mint(key, user, account, session);
  }

  /** The same claims the server's AccessTokens mints: ES256, iss tradersflow, aud tradersflow-api. */
  private static String mint(PrivateKey key, UUID user, UUID account, UUID session) throws Exception {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    long now = Instant.now().getEpochSecond();
    String header = b64.encodeToString("{\"alg\":\"ES256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    String claims = b64.encodeToString(("{\"sub\":\"" + user + "\",\"acc\":\"" + account + "\",\"sid\":\"" + session
        + "\",\"iat\":" + now + ",\"exp\":" + (now + 6 * 3600) + ",\"iss\":\"tradersflow\",\"aud\":\"tradersflow-api\"}")
        .getBytes(StandardCharsets.UTF_8));
    Signature signer = Signature.getInstance("SHA256withECDSAinP1363Format");
    signer.initSign(key);
    signer.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
    return header + "." + claims + "." + b64.encodeToString(signer.sign());
  }

  private static PrivateKey readKey(Path pem) throws IOException, Exception {
    String body = Files.readString(pem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
  }

  private static void exec(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      ps.executeUpdate();
    }
  }
}
