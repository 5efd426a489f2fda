package uk.co.tradersflow.platform.db;

import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * A server with two accounts, {@code a} and {@code b}, one user each: the data-access tests prove
 * what one account can and cannot reach of the other's. JUnit registers the inherited extension for
 * each subclass (a server of its own), before the subclass's own {@code @BeforeAll} set-up runs.
 */
abstract class TwoAccountsTest {
    static TestServer server;
    static TestUser a;
    static TestUser b;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults()
            .then(s -> server = s)
            .then(TestUsers.twoAccounts((first, second) -> {
                a = first;
                b = second;
            }));
}
