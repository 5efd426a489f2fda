package uk.co.tradersflow.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Optional;
import java.util.UUID;

/**
 * Creates accounts, users and sessions directly in the database (as the admin, behind the API's
 * back) and mints real access tokens for them with the server's own key, so tests of any
 * capability can act as a signed-in user without going through sign-in.
 */
public final class TestUsers {
  public record TestUser(UUID accountId, UUID userId, UUID sessionId, String email, String token) {}

  private final TestServer server;

  public TestUsers(TestServer server) {
    this.server = server;
  }

  public TestUser create() {
    return create("user-" + UUID.randomUUID() + "@example.test", true);
  }

  /**
   * A user as if long established: a verified one has also set their password through a reset
   * before this session opened, which a staff address needs before the admin area opens
   * (admin/OwnerGuard); tests of that rule make their users through the API instead.
   */
  public TestUser create(String email, boolean verified) {
    UUID account = UUID.randomUUID();
    UUID user = UUID.randomUUID();
    try (Connection c = server.env.admin()) {
      exec(c, "INSERT INTO accounts (id, business_name) VALUES (?, ?)", account, "Business " + account.toString().substring(0, 8));
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO users (id, account_id, email, email_verified_at, password_set_by_reset_at) VALUES (?, ?, ?, ?, ?)")) {
        ps.setObject(1, user);
        ps.setObject(2, account);
        ps.setString(3, email.toLowerCase());
        ps.setObject(4, verified ? java.time.OffsetDateTime.now() : null);
        ps.setObject(5, verified ? java.time.OffsetDateTime.now().minusMinutes(1) : null);
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return newSession(account, user, email.toLowerCase());
  }

  /** Another session (another device) for an existing user. */
  public TestUser newSession(UUID account, UUID user, String email) {
    UUID session = UUID.randomUUID();
    try (Connection c = server.env.admin();
         PreparedStatement ps = c.prepareStatement(
             "INSERT INTO sessions (id, account_id, user_id, expires_at) VALUES (?, ?, ?, ?)")) {
      ps.setObject(1, session);
      ps.setObject(2, account);
      ps.setObject(3, user);
      ps.setObject(4, java.time.OffsetDateTime.now().plusDays(30));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    String token = server.main.accessTokens().mint(user, account, session, Optional.empty());
    return new TestUser(account, user, session, email, token);
  }

  public void revokeSession(UUID session) {
    sql("UPDATE sessions SET revoked_at = now() WHERE id = ?", session);
  }

  public void setAccountStatus(UUID account, String status) {
    sql("UPDATE accounts SET status = '" + status + "' WHERE id = ?", account);
  }

  private void sql(String statement, Object arg) {
    try (Connection c = server.env.admin()) {
      exec(c, statement, arg);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
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
