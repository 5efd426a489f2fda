package uk.co.tradersflow.auth;

import uk.co.tradersflow.support.OnRedisCluster;

/** {@link AuthGuardTest}'s tests against a three-master Redis Cluster of their own. */
@OnRedisCluster
class AuthGuardOnRedisClusterTest extends AuthGuardTest {}
