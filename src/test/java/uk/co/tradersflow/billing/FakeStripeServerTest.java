package uk.co.tradersflow.billing;

import static uk.co.tradersflow.billing.BillingFixtures.withFakeStripe;

import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;

/**
 * The shape most billing tests share: a fake Stripe, a server pointed at it, and users on it.
 * JUnit registers the inherited extension for each subclass, so every class gets a server of its
 * own; the fields hold the running class's (surefire runs test classes one after another).
 */
abstract class FakeStripeServerTest {
    static FakeStripe fake;
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            withFakeStripe(started -> fake = started).then(s -> server = s).then(s -> users = new TestUsers(s));
}
