package uk.co.tradersflow.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.util.GreenMail;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import jakarta.mail.internet.MimeMessage;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.bus.LocalRecordCodec;
import uk.co.tradersflow.platform.bus.Signal;
import uk.co.tradersflow.platform.security.ActorType;
import uk.co.tradersflow.support.LocalSmtp;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** A unit of work's after-commit hooks: after a COMMIT that took, once, and never otherwise. */
class UnitOfWorkTest {
    static GreenMail smtp;
    static TestServer server;
    static Db db;
    static TestUser user;
    /**
     * A bus of its own for the audit log and outbox under test, so the signals counted are theirs
     * alone and not the running server's.
     */
    static Vertx quiet;

    @RegisterExtension
    static final ServerExtension lifecycle = LocalSmtp.server(started -> smtp = started)
            .then(s -> {
                server = s;
                db = server.main.db();
                user = new TestUsers(server).create();
                quiet = Vertx.vertx();
                LocalRecordCodec.register(quiet, Signal.class);
            });

    @AfterAll
    static void stop() {
        TestServer.await(quiet.close());
    }

    private static Future<Void> insert(Tx tx, String name) {
        return tx.preparedQuery("INSERT INTO customers (name) VALUES ($1)")
                .execute(Tuple.of(name))
                .mapEmpty();
    }

    private static long rows(String name) throws SQLException {
        return Sql.admin()
                .count("SELECT count(*) FROM customers WHERE account_id = ? AND name = ?", user.accountId(), name);
    }

    @Test
    void aHookRunsOnceTheCommitHasTakenSoOthersSeeTheWrites() {
        String name = "hooked-" + UUID.randomUUID();
        Promise<Long> seenByTheHook = Promise.promise();
        AtomicInteger runs = new AtomicInteger();
        TestServer.await(db.inAccount(user.accountId(), tx -> {
            tx.afterCommit(() -> {
                runs.incrementAndGet();
                // Another connection, another transaction: it sees the row only if the unit has committed.
                db.readInAccount(user.accountId(), c -> c.preparedQuery(
                                        "SELECT count(*) AS n FROM customers WHERE name = $1")
                                .execute(Tuple.of(name)))
                        .map(r -> r.iterator().next().getLong("n"))
                        .onComplete(seenByTheHook);
            });
            return insert(tx, name);
        }));
        assertThat(runs).as("ran before the unit's future completed").hasValue(1);
        assertThat(TestServer.await(seenByTheHook.future())).isEqualTo(1);
    }

    @Test
    void theSameHookRegisteredForEveryEntryRunsOncePerTransactionAndDistinctHooksRunInOrder() {
        List<String> ran = new CopyOnWriteArrayList<>();
        Runnable first = () -> ran.add("first");
        Runnable second = () -> ran.add("second");
        TestServer.await(db.asWorker(tx -> {
            tx.afterCommit(first);
            tx.afterCommit(second);
            tx.afterCommit(first);
            return tx.query("SELECT 1").execute().onSuccess(r -> tx.afterCommit(second));
        }));
        assertThat(ran).containsExactly("first", "second");

        ran.clear();
        TestServer.await(db.asWorker(tx -> {
            tx.afterCommit(first);
            return tx.query("SELECT 1").execute();
        }));
        assertThat(ran).as("a hook instance belongs to each unit anew").containsExactly("first");
    }

    @Test
    void noHookRunsWhenTheUnitRollsBack() throws SQLException {
        AtomicInteger runs = new AtomicInteger();
        String failed = "failed-" + UUID.randomUUID();
        assertThatThrownBy(() -> TestServer.await(db.inAccount(user.accountId(), tx -> {
                    tx.afterCommit(runs::incrementAndGet);
                    return insert(tx, failed)
                            .compose(v -> Future.failedFuture(new IllegalStateException("business rule failed")));
                })))
                .hasMessageContaining("business rule failed");

        String thrown = "thrown-" + UUID.randomUUID();
        assertThatThrownBy(() -> TestServer.await(db.asWorker(tx -> {
                    tx.afterCommit(runs::incrementAndGet);
                    throw new IllegalArgumentException("thrown synchronously");
                })))
                .hasMessageContaining("thrown synchronously");

        assertThat(rows(failed)).isZero();
        assertThat(runs).hasValue(0);
    }

    /** A deferred constraint is checked at COMMIT: the COMMIT fails, nothing is written, no hook runs. */
    @Test
    void noHookRunsWhenTheCommitItselfFails() throws SQLException {
        AtomicInteger runs = new AtomicInteger();
        String name = "deferred-" + UUID.randomUUID();
        assertThatThrownBy(() -> TestServer.await(db.inAccount(user.accountId(), tx -> {
                    tx.afterCommit(runs::incrementAndGet);
                    return tx.query(
                                    "CREATE TEMP TABLE uow_deferred (id int PRIMARY KEY,"
                                            + " parent int REFERENCES uow_deferred (id) DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP")
                            .execute()
                            .compose(v -> tx.query("INSERT INTO uow_deferred VALUES (1, 2)")
                                    .execute())
                            .compose(v -> insert(tx, name));
                })))
                .hasMessageContaining("uow_deferred");
        assertThat(rows(name)).isZero();
        assertThat(runs).hasValue(0);
    }

    /**
     * A unit that recovers from a failed statement still "succeeds", but PostgreSQL answers its
     * COMMIT by rolling back: its writes are gone, so its hooks must not announce them.
     */
    @Test
    void noHookRunsWhenPostgresTurnsTheCommitIntoARollback() throws SQLException {
        AtomicInteger runs = new AtomicInteger();
        String name = "aborted-" + UUID.randomUUID();
        TestServer.await(db.inAccount(user.accountId(), tx -> {
            tx.afterCommit(runs::incrementAndGet);
            return insert(tx, name)
                    .compose(v -> tx.query("SELECT 1/0").execute().<Void>mapEmpty())
                    .recover(e -> Future.succeededFuture());
        }));
        assertThat(rows(name)).isZero();
        assertThat(runs).hasValue(0);
    }

    /**
     * A step under a savepoint that fails (a statement PostgreSQL refuses) undoes only its own
     * writes and hooks: the unit carries on, its COMMIT commits the rest, and the rest's hooks run.
     */
    @Test
    void aFailedSavepointStepUndoesOnlyItsOwnWritesAndHooksAndTheUnitCommitsTheRest() throws SQLException {
        String before = "before-" + UUID.randomUUID();
        String undone = "undone-" + UUID.randomUUID();
        String after = "after-" + UUID.randomUUID();
        List<String> ran = new CopyOnWriteArrayList<>();
        Promise<Throwable> stepFailure = Promise.promise();
        TestServer.await(db.inAccount(user.accountId(), tx -> insert(tx, before)
                .compose(v -> tx.savepoint(step -> {
                            step.afterCommit(() -> ran.add("undone step"));
                            return insert(step, undone)
                                    .compose(w -> step.query("SELECT 1/0").execute())
                                    .<Void>mapEmpty();
                        })
                        .recover(e -> {
                            stepFailure.complete(e);
                            return Future.succeededFuture();
                        }))
                .compose(v -> tx.savepoint(step -> {
                    step.afterCommit(() -> ran.add("kept step"));
                    return insert(step, after);
                }))));
        assertThat(stepFailure.future().result()).hasMessageContaining("division by zero");
        assertThat(rows(before)).isEqualTo(1);
        assertThat(rows(undone)).as("the failed step's write is undone").isZero();
        assertThat(rows(after))
                .as("written after the failed step, and committed")
                .isEqualTo(1);
        assertThat(ran).containsExactly("kept step");
    }

    @Test
    void aHookCannotBeRegisteredAfterItsUnitEnded() {
        Tx kept = TestServer.await(db.asWorker(tx -> Future.succeededFuture(tx)));
        assertThatThrownBy(() -> kept.afterCommit(() -> {}))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("after its unit of work ended");
    }

    /** Counts the signals published on {@code address} of the quiet bus while {@code action} runs and shortly after. */
    private static int signalsDuring(String address, Runnable action) throws InterruptedException {
        AtomicInteger received = new AtomicInteger();
        MessageConsumer<Signal> consumer = quiet.eventBus().consumer(address, m -> received.incrementAndGet());
        TestServer.await(consumer.completion());
        try {
            action.run();
            Thread.sleep(300); // delivery is asynchronous: let any further signal arrive
            return received.get();
        } finally {
            TestServer.await(consumer.unregister());
        }
    }

    @Test
    void auditEntriesWakeTheSealerOncePerCommittedTransactionAndNeverForARolledBackOne() throws Exception {
        AuditLog audit = new AuditLog(quiet.eventBus());
        AuditEntry entry =
                AuditEntry.by(ActorType.SYSTEM, Optional.empty(), Optional.of(user.accountId()), "test.after_commit");
        assertThat(signalsDuring(
                        Addresses.AUDIT_APPENDED,
                        () -> TestServer.await(db.inAccount(user.accountId(), tx -> audit.append(tx, entry)
                                .compose(v -> audit.append(tx, entry))
                                .compose(v -> audit.append(tx, entry))))))
                .isEqualTo(1);
        assertThat(signalsDuring(
                        Addresses.AUDIT_APPENDED,
                        () -> assertThatThrownBy(
                                () -> TestServer.await(db.inAccount(user.accountId(), tx -> audit.append(tx, entry)
                                        .compose(v -> Future.failedFuture(new IllegalStateException("no"))))))))
                .isZero();
    }

    @Test
    void queuedEmailsWakeTheDispatcherOncePerCommittedTransactionAndNeverForARolledBackOne() throws Exception {
        EmailOutbox outbox = new EmailOutbox(quiet.eventBus());
        JsonObject model = new JsonObject().put("businessName", "B").put("link", "https://x.test");
        java.util.function.Function<String, OutgoingEmail> mail =
                to -> OutgoingEmail.of("verify_email", to, model, "t:" + UUID.randomUUID(), user.accountId());
        String to = "c@" + UUID.randomUUID() + ".test";
        assertThat(signalsDuring(
                        Addresses.EMAIL_DISPATCH,
                        () -> TestServer.await(db.inAccount(user.accountId(), tx -> outbox.enqueue(tx, mail.apply(to))
                                .compose(v -> outbox.enqueue(tx, mail.apply(to)))))))
                .isEqualTo(1);
        // Rolled back, so these emails never exist for the running server to send.
        assertThat(signalsDuring(
                        Addresses.EMAIL_DISPATCH,
                        () -> assertThatThrownBy(() -> TestServer.await(db.asWorker(tx -> outbox.enqueue(
                                        tx, mail.apply("a@" + UUID.randomUUID() + ".test"))
                                .compose(v -> outbox.enqueue(tx, mail.apply("b@" + UUID.randomUUID() + ".test")))
                                .compose(v -> Future.failedFuture(new IllegalStateException("rolled back"))))))))
                .as("a rolled-back unit wakes nobody")
                .isZero();
    }

    /**
     * The real path: a sign-up writes its verification email to the outbox and nothing in the
     * route nudges the dispatcher by hand; the commit does, and the email goes out.
     */
    @Test
    void aSignUpWakesTheDispatcherOnCommitAndItsEmailIsSent() throws Exception {
        String domain = UUID.randomUUID() + ".test";
        String email = "trader@" + domain;
        AtomicInteger wakes = new AtomicInteger();
        MessageConsumer<Signal> consumer =
                server.vertx.eventBus().consumer(Addresses.EMAIL_DISPATCH, m -> wakes.incrementAndGet());
        TestServer.await(consumer.completion());
        try {
            long start = System.nanoTime();
            assertThat(TestServer.await(server.request(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/signup")
                                    .sendJsonObject(new JsonObject()
                                            .put("email", email)
                                            .put("password", "Tf-" + UUID.randomUUID())
                                            .put("businessName", "Sparks Ltd")))
                            .statusCode())
                    .isEqualTo(201);
            MimeMessage[] received = smtp.getReceivedMessagesForDomain(domain);
            while (received.length == 0 && System.nanoTime() - start < 10_000_000_000L) {
                Thread.sleep(20);
                received = smtp.getReceivedMessagesForDomain(domain);
            }
            assertThat(received).hasSize(1);
            // The dispatcher's poll timer calls it directly; only a commit publishes this signal.
            assertThat(wakes.get())
                    .as("the sign-up's commit woke the dispatcher, once")
                    .isEqualTo(1);
        } finally {
            TestServer.await(consumer.unregister());
        }
    }
}
