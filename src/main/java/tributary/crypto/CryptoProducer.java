package tributary.crypto;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import tributary.config.TributaryConfig;

/** Builds the key ring and record cipher from {@code tributary.crypto}. */
@ApplicationScoped
public class CryptoProducer {

    @Produces
    @Singleton
    RecordCipher recordCipher(TributaryConfig config) {
        return new RecordCipher(new KeyRing(config.crypto().activeKey(), config.crypto().keys()));
    }
}
