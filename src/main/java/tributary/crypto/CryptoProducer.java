package tributary.crypto;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import tributary.config.TributaryConfig;

/** Builds the key ring, the record cipher and the control-record authenticator from {@code tributary.crypto}. */
@ApplicationScoped
public class CryptoProducer {

    @Produces
    @Singleton
    RecordCipher recordCipher(TributaryConfig config) {
        return new RecordCipher(new KeyRing(config.crypto().activeKey(), config.crypto().keys()));
    }

    @Produces
    @Singleton
    ControlRecords controlRecords(RecordCipher cipher) {
        return new ControlRecords(cipher.ring());
    }
}
