package uk.co.tradersflow.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.security.Actor;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.platform.security.Principal;

class AuditEntryTest {
    private final UUID user = UUID.randomUUID();
    private final UUID account = UUID.randomUUID();
    private final UUID owner = UUID.randomUUID();

    @Test
    void aUsersActionRecordsTheUserTheAccountTheImpersonatingOwnerAndWhereItCameFrom() {
        Principal p = new Principal(user, account, UUID.randomUUID(), "a@example.com", true, Optional.of(owner));

        AuditEntry e = AuditEntry.byUser(p, new ClientInfo.Client("203.0.113.9", "curl/8"), "customer.created");

        assertThat(e)
                .isEqualTo(new AuditEntry(
                        Optional.of(account),
                        ActorType.USER,
                        Optional.of(user),
                        Optional.of(owner),
                        "customer.created",
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of("203.0.113.9"),
                        Optional.of("curl/8"),
                        new io.vertx.core.json.JsonObject()));
    }

    @Test
    void anActorCarriesItsKindIdAndImpersonatorIntoTheEntry() {
        Principal p = new Principal(user, account, UUID.randomUUID(), "a@example.com", true, Optional.empty());

        AuditEntry byUser = AuditEntry.by(Actor.of(p), Optional.of(account), "x");
        AuditEntry bySystem = AuditEntry.by(Actor.SYSTEM, Optional.empty(), "y");

        assertThat(byUser.actorType()).isEqualTo(ActorType.USER);
        assertThat(byUser.actorId()).contains(user);
        assertThat(byUser.impersonatorId()).isEmpty();
        assertThat(byUser.accountId()).contains(account);
        assertThat(bySystem.actorType()).isEqualTo(ActorType.SYSTEM);
        assertThat(bySystem.actorId()).isEmpty();
        assertThat(bySystem.accountId()).isEmpty();
        assertThat(bySystem.ip()).isEmpty();
    }
}
