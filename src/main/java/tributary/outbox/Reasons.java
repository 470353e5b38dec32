package tributary.outbox;

/**
 * Makes a failure reason safe to store and to send in a header: control characters (NUL breaks a text bind and a
 * header) become spaces, and the length is bounded.
 */
public final class Reasons {

    static final int MAX = 2000;

    private Reasons() {
    }

    public static String clean(String reason) {
        if (reason == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(Math.min(reason.length(), MAX));
        for (int i = 0; i < reason.length() && out.length() < MAX; i++) {
            char c = reason.charAt(i);
            out.append(Character.isISOControl(c) || Character.isSurrogate(c) && !validSurrogate(reason, i) ? ' ' : c);
        }
        return out.toString();
    }

    /** A lone surrogate is not valid UTF-8 either. */
    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
