package tributary.crypto;

import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256 keys by id: the active key seals, every known key opens, so keys rotate without a stop. Error messages
 * name key ids, never key material.
 */
public final class KeyRing {

    private final String activeId;
    private final Map<String, SecretKey> keys;

    public KeyRing(String activeId, Map<String, String> base64Keys) {
        Map<String, SecretKey> decoded = new LinkedHashMap<>();
        base64Keys.forEach((id, b64) -> decoded.put(validId(id), decode(id, b64)));
        if (!decoded.containsKey(activeId)) {
            throw new IllegalArgumentException("tributary.crypto.active-key '" + activeId
                    + "' is not among tributary.crypto.keys " + decoded.keySet());
        }
        this.activeId = activeId;
        this.keys = Collections.unmodifiableMap(decoded);
    }

    /** Checked per record (the key id header), so compiled once. */
    private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    public static boolean isValidId(String id) {
        return ID.matcher(id).matches();
    }

    private static String validId(String id) {
        if (!isValidId(id)) {
            throw new IllegalArgumentException("key id '" + id + "' must be 1-64 letters, digits, '_', '.' or '-'");
        }
        return id;
    }

    private static SecretKey decode(String id, String b64) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(b64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key '" + id + "' is not valid base64");
        }
        if (raw.length != 32) {
            throw new IllegalArgumentException("key '" + id + "' must be 32 bytes (AES-256), got " + raw.length);
        }
        return new SecretKeySpec(raw, "AES");
    }

    public String activeId() {
        return activeId;
    }

    public SecretKey active() {
        return keys.get(activeId);
    }

    /** The key with this id, or null when the ring does not know it. */
    public SecretKey get(String id) {
        return keys.get(id);
    }

    @Override
    public String toString() {
        return "KeyRing[active=" + activeId + ", ids=" + keys.keySet() + "]";
    }
}
