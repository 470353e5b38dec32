package tributary.clean;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One payload as the rules see it: parsed only when a rule needs the fields (a filter alone reads the text), and
 * written back only when a rule changed it. Numbers stay exact ({@code 12345678901234.56}, {@code 1.10}) and fields
 * keep their order.
 */
final class Doc {

    /** Exact decimals: BigDecimal for floats, trailing zeros kept (the successor of withExactBigDecimals(true)). */
    static final ObjectMapper JSON = JsonMapper.builder().disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private final String original;
    private ObjectNode root;
    private boolean changed;

    Doc(String payload) {
        this.original = payload;
    }

    /** The parsed payload; throws when it is not a JSON object (the structural checks before make that rare). */
    ObjectNode root() throws JsonProcessingException {
        if (root == null) {
            JsonNode node = JSON.readTree(original);
            if (!(node instanceof ObjectNode object)) {
                throw new IllegalStateException("payload is not a JSON object");
            }
            root = object;
        }
        return root;
    }

    void changed() {
        changed = true;
    }

    /** The payload text as it stands: the original when nothing changed. */
    String text() throws JsonProcessingException {
        return changed ? JSON.writeValueAsString(root) : original;
    }

    /** A JSON value from configuration: JSON when it parses as JSON, else the text itself as a string. */
    static JsonNode value(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            return node == null || node.isMissingNode() ? JSON.getNodeFactory().textNode(text) : node;
        } catch (JsonProcessingException e) {
            return JSON.getNodeFactory().textNode(text);
        }
    }
}
