package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Sign-in, reset and the account's own address all meet in one form, however an address is typed. */
class EmailAddressTest {

    @Test
    void everySpellingOfAnAddressIsTheSameValue() {
        EmailAddress plain = EmailAddress.of("sam@example.test");
        assertThat(new EmailAddress(" Sam@Example.TEST\u00A0")).isEqualTo(plain);
        assertThat(EmailAddress.of("\u2007sam@example.test")).isEqualTo(plain);
        assertThat(EmailAddress.of("\uFF53am@example.test")).isEqualTo(plain);
        assertThat(plain.value()).isEqualTo("sam@example.test");
    }

    @Test
    void aLookupTakesAnyTextButOnlyAWellFormedAddressMayBeHeld() {
        assertThat(EmailAddress.of("not an address").wellFormed()).isFalse();
        assertThat(EmailAddress.of("Sam@Example.test ").wellFormed()).isTrue();
    }
}
