package tributary.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IdentifiersTest {

    @Test
    void quotesPlainAndQualifiedNames() {
        assertEquals("\"orders\"", Identifiers.quote("orders"));
        assertEquals("\"sales\".\"Orders_2\"", Identifiers.quote("sales.Orders_2"));
        assertEquals("Orders_2", Identifiers.simpleName("sales.Orders_2"));
    }

    @Test
    void rejectsAnythingThatCouldCarrySql() {
        for (String bad : new String[] { "", "orders; DROP TABLE x", "a\"b", "a.b.c", "1orders", "or ders", "x--",
                "a.", ".a", "orders)" }) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Identifiers.quote(bad), bad);
            assertTrue(e.getMessage().contains("identifier"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Identifiers.quote(null));
    }
}
