package uk.co.tradersflow.ratelimit;

import uk.co.tradersflow.support.OnRedisCluster;

/** {@link ApiRateLimitTest}'s tests against a three-master Redis Cluster of their own. */
@OnRedisCluster
class ApiRateLimitOnRedisClusterTest extends ApiRateLimitTest {}
