#!/usr/bin/env python3
"""Stripe webhook deliveries for wrk (stripe-webhooks.lua), as StripeWebhookSimulation makes them:
subscription updates of 500 customers no account has, each event's `created` up to two minutes
in the past, and one delivery in five (DUPLICATES) a redelivery of one of the 1,000 events sent
just before. Each line: event id, Stripe-Signature (signed now with the webhook secret), body.
Signatures are valid for the server's tolerance (300 s): make the file just before the run.
Event ids start with PREFIX (evt_load, what check-stripe-events.sh counts; the warm-up's evt_warm).
  load-tests/stripe-deliveries.py <count> <secret> <out> [duplicates=0.2] [prefix=evt_load]"""
import hashlib, hmac, random, sys, time, uuid

count, secret, out = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
duplicates = float(sys.argv[4]) if len(sys.argv) > 4 else 0.2
prefix = sys.argv[5] if len(sys.argv) > 5 else "evt_load"
statuses = ["trialing", "active", "past_due", "canceled"]
now = int(time.time())
events = []
with open(out, "w") as f:
    for _ in range(count):
        if events and random.random() < duplicates:
            event = events[len(events) - 1 - random.randrange(min(1000, len(events)))]
        else:
            eid = prefix + uuid.uuid4().hex
            customer = random.randrange(500)
            body = ('{"id":"%s","object":"event","api_version":"2025-03-31.basil","created":%d,'
                    '"data":{"object":{"id":"sub_load%d","object":"subscription","customer":"cus_load%d",'
                    '"status":"%s"}},"livemode":false,"pending_webhooks":1,'
                    '"request":{"id":null,"idempotency_key":null},"type":"customer.subscription.updated"}'
                    % (eid, now - random.randrange(120), customer, customer, random.choice(statuses)))
            event = (eid, body)
            events.append(event)
        mac = hmac.new(secret, b"%d.%s" % (now, event[1].encode()), hashlib.sha256).hexdigest()
        f.write("%s\tt=%d,v1=%s\t%s\n" % (event[0], now, mac, event[1]))
print("%d deliveries of %d distinct events in %s" % (count, len(events), out))
