package tributary.clean;

/** A mistake in one option of a rule; {@link CleanRules#compile} puts the rule's key in front of the message. */
final class BadOption extends IllegalArgumentException {

    final String option;

    BadOption(String option, String message) {
        super(message);
        this.option = option;
    }
}
