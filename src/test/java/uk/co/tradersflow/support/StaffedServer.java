package uk.co.tradersflow.support;

import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * What an admin-area test class runs against: its server, two owners and a support member with
 * addresses of this run's (so the class's staff are its own), signed in once the server is up. A
 * class keeps one in a static field and names its users through it ({@code at.owner.token()}).
 */
public final class StaffedServer {
    public final String ownerEmail;
    public final String otherOwnerEmail;
    public final String supportEmail;
    public TestServer server;
    public TestUsers users;
    public TestUser owner;
    public TestUser otherOwner;
    public TestUser support;

    /** Staff addresses starting {@code prefix} ({@code "owner-"…} with an empty one), unique to this run. */
    public StaffedServer(String prefix) {
        this.ownerEmail = prefix + "owner-" + UUID.randomUUID() + "@tradersflow.test";
        this.otherOwnerEmail = prefix + "owner2-" + UUID.randomUUID() + "@tradersflow.test";
        this.supportEmail = prefix + "support-" + UUID.randomUUID() + "@tradersflow.test";
    }

    /** Staff with these addresses: several classes sharing them find each other's users. */
    public StaffedServer(String ownerEmail, String otherOwnerEmail, String supportEmail) {
        this.ownerEmail = ownerEmail;
        this.otherOwnerEmail = otherOwnerEmail;
        this.supportEmail = supportEmail;
    }

    /** The settings naming the staff: {@code TF_OWNER_EMAILS} and {@code TF_SUPPORT_EMAILS}. */
    public Map<String, String> settings() {
        return Map.of("TF_OWNER_EMAILS", ownerEmail + "," + otherOwnerEmail, "TF_SUPPORT_EMAILS", supportEmail);
    }

    /** The server with the test defaults and {@link #settings()}, the staff signed in once it is up. */
    public ServerExtension extension() {
        return ServerExtension.with(settings()).then(this::started);
    }

    /** Keeps {@code s} and signs the staff in: for a class whose extension has settings of its own too. */
    public void started(TestServer s) {
        server = s;
        users = new TestUsers(s);
        owner = signedIn(users, ownerEmail);
        otherOwner = signedIn(users, otherOwnerEmail);
        support = signedIn(users, supportEmail);
    }

    /**
     * A staff member signed in afresh: a later test class with the same addresses finds the user an
     * earlier one made and opens another session for it.
     */
    public static TestUser signedIn(TestUsers users, String email) {
        Optional<String> existing = Sql.admin().find("SELECT id::text FROM users WHERE email = ?", email);
        if (existing.isEmpty()) {
            return users.create(email, true);
        }
        UUID user = UUID.fromString(existing.get());
        UUID account = UUID.fromString(Sql.admin().string("SELECT account_id::text FROM users WHERE id = ?", user));
        return users.newSession(account, user, email);
    }
}
