package uk.co.tradersflow.data.invoices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class InvoiceNumberTest {
    @Test
    void numbersHaveFourDigitsAtLeastAndGrowPastThem() {
        assertThat(Invoice.formatNumber(1)).isEqualTo("INV-0001");
        assertThat(Invoice.formatNumber(42)).isEqualTo("INV-0042");
        assertThat(Invoice.formatNumber(907)).isEqualTo("INV-0907");
        assertThat(Invoice.formatNumber(1000)).isEqualTo("INV-1000");
        assertThat(Invoice.formatNumber(9999)).isEqualTo("INV-9999");
        assertThat(Invoice.formatNumber(10000)).isEqualTo("INV-10000");
        assertThat(Invoice.formatNumber(Integer.MAX_VALUE)).isEqualTo("INV-2147483647");
        for (int n = 1; n <= 20_000; n++) {
            assertThat(Invoice.formatNumber(n)).isEqualTo(String.format("INV-%04d", n));
        }
        assertThat(Invoice.formatNumber(0)).isEqualTo("INV-0000");
    }

    @Test
    void aNegativeNumberIsADefectNotAnInvoice() {
        assertThatThrownBy(() -> Invoice.formatNumber(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
