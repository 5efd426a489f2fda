/**
 * Classes built to break {@code LayeringTest}'s rules (a kernel class naming a capability, a
 * billing/email cycle, crossings nobody published), so the test proves each rule still sees a
 * violation. Nothing uses them.
 */
package uk.co.tradersflow.layeringfixture;
