package uk.co.tradersflow.auth;

import uk.co.tradersflow.support.OnRedisCluster;

/** {@link RateLimitedAnswersTest}'s tests against a three-master Redis Cluster of their own. */
@OnRedisCluster
class RateLimitedAnswersOnRedisClusterTest extends RateLimitedAnswersTest {}
