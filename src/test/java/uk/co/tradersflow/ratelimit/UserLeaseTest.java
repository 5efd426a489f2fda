package uk.co.tradersflow.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import uk.co.tradersflow.ratelimit.ApiRateLimit.UserLease;

/** The bookkeeping of units an instance holds for one user, on a clock the test moves. */
class UserLeaseTest {
    static final long MS = 1_000_000;

    private static RateLimiter.Lease granted(int units, int remaining) {
        return granted(units, remaining, 0);
    }

    /** {@code bucketTime}: when Redis ran the call, in the order of the bucket's own clock. */
    private static RateLimiter.Lease granted(int units, int remaining, long bucketTime) {
        return new RateLimiter.Lease(
                units, new RateLimiter.Decision(units > 0, 100, remaining, 2, units > 0 ? 0 : 1), bucketTime);
    }

    /** Leases of 1, 2, 4 … units while the user keeps asking; the unit each waiting request spends is not held. */
    private static UserLease warmed(long now) {
        UserLease lease = new UserLease(10);
        for (int i = 0; i < 4; i++) {
            int size = lease.nextSize(now);
            lease.taken(granted(size, 80), now);
            while (lease.spend(now) != null) {
                // spend what was held, so the next request waits for Redis again
            }
        }
        return lease;
    }

    @Test
    void requestsBehindALeaseInFlightAskForTheirOwnUnitOnly() {
        UserLease lease = warmed(0);
        int first = lease.nextSize(0);
        assertThat(first).isGreaterThan(1);
        assertThat(lease.nextSize(0)).isEqualTo(1);
        assertThat(lease.nextSize(0)).isEqualTo(1);
    }

    @Test
    void aRequestRedisRefusesSpendsAUnitAnotherCallBroughtIn() {
        UserLease lease = warmed(0);
        int size = lease.nextSize(0);
        lease.nextSize(0);
        assertThat(lease.taken(granted(size, 0), 0).allowed()).isTrue();
        RateLimiter.Decision refusedByRedis = lease.taken(granted(0, 0), 0);
        assertThat(refusedByRedis.allowed())
                .as("the first call left units here")
                .isTrue();
        assertThat(refusedByRedis.remaining()).isEqualTo(size - 2);
    }

    /**
     * The suite once saw RateLimit-Remaining 10 too high: a lease and a request's own unit were in
     * flight together, Redis ran the unit first, and its answer arrived last.
     */
    @Test
    void answersArrivingOutOfOrderShowTheBucketAsRedisLastLeftIt() {
        UserLease lease = warmed(0);
        int size = lease.nextSize(0);
        assertThat(lease.nextSize(0))
                .as("a request behind the lease asks for its own unit")
                .isEqualTo(1);
        // Redis: the own unit first (80 -> 79), then the lease (79 -> 79 - size); answers the other way round.
        assertThat(lease.taken(granted(size, 79 - size, 200), 0).remaining()).isEqualTo(78);
        assertThat(lease.taken(granted(1, 79, 100), 0).remaining())
                .as("Redis's 79 - size left and size - 1 held here, not the 79 from before the lease")
                .isEqualTo(78);
    }

    @Test
    void eachBatchExpiresOnItsOwnClockAndNoneOutlivesIt() {
        UserLease lease = warmed(0);
        int size = lease.nextSize(0);
        lease.taken(granted(size, 50), 0);
        long later = 600 * MS;
        int topUp = 0;
        while (topUp == 0 && lease.spend(later) != null) {
            topUp = lease.topUpSize(later);
        }
        assertThat(topUp).as("a top-up once half the lease is spent").isPositive();
        lease.toppedUp(granted(topUp, 40), later);
        assertThat(lease.spend(later).remaining())
                .as("Redis's figure and what is held here")
                .isEqualTo(40 + 4 + topUp);
        // At 1 s the first batch's leftovers (4) expire; the top-up's units last until 1.6 s.
        assertThat(lease.spend(1000 * MS).remaining()).isEqualTo(40 + topUp - 1);
        assertThat(lease.spend(1600 * MS)).as("the top-up's batch expired too").isNull();
    }
}
