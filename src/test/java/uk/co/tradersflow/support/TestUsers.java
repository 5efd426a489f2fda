package uk.co.tradersflow.support;

import java.util.Optional;
import java.util.UUID;
import java.util.function.BiConsumer;

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

    /**
     * A start-up step for {@link ServerExtension#then}: two users, each owning an account of its own,
     * handed to {@code made}, for the tests of what one account cannot reach of the other.
     */
    public static ServerExtension.Started twoAccounts(BiConsumer<TestUser, TestUser> made) {
        return server -> {
            TestUsers users = new TestUsers(server);
            made.accept(users.create(), users.create());
        };
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
        Sql.admin()
                .update(
                        "INSERT INTO accounts (id, business_name) VALUES (?, ?)",
                        account,
                        "Business " + account.toString().substring(0, 8));
        Sql.admin()
                .update(
                        "INSERT INTO users (id, account_id, email, email_verified_at, password_set_by_reset_at) VALUES (?, ?, ?, ?, ?)",
                        user,
                        account,
                        email.toLowerCase(),
                        verified ? java.time.OffsetDateTime.now() : null,
                        verified ? java.time.OffsetDateTime.now().minusMinutes(1) : null);
        return newSession(account, user, email.toLowerCase());
    }

    /** Another session (another device) for an existing user. */
    public TestUser newSession(UUID account, UUID user, String email) {
        UUID session = UUID.randomUUID();
        Sql.admin()
                .update(
                        "INSERT INTO sessions (id, account_id, user_id, expires_at) VALUES (?, ?, ?, ?)",
                        session,
                        account,
                        user,
                        java.time.OffsetDateTime.now().plusDays(30));
        String token = server.main.accessTokens().mint(user, account, session, Optional.empty());
        return new TestUser(account, user, session, email, token);
    }

    public void revokeSession(UUID session) {
        Sql.admin().update("UPDATE sessions SET revoked_at = now() WHERE id = ?", session);
    }

    public void setAccountStatus(UUID account, String status) {
        Sql.admin().update("UPDATE accounts SET status = '" + status + "' WHERE id = ?", account);
    }
}
