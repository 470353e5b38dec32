package routes;

import java.util.Set;
import java.util.TreeSet;

import org.apache.camel.builder.RouteBuilder;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;
import tributary.failover.Probes;
import tributary.jdbc.Datasources;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;

/**
 * health: scheduled probes of every target datasource (through camel-jdbc, on the probe's own short-timeout pool)
 * and of Kafka.
 */
@ApplicationScoped
public class HealthRoute extends RouteBuilder {

    static final String JDBC = "health-probe-jdbc";
    static final String KAFKA = "health-probe-kafka";
    static final String PROBE_DS = "tributary-probe-ds-";

    private final Pipelines pipelines;
    private final Datasources datasources;
    private final TributaryConfig config;

    public HealthRoute(Pipelines pipelines, Datasources datasources, TributaryConfig config) {
        this.pipelines = pipelines;
        this.datasources = datasources;
        this.config = config;
    }

    @Override
    public void configure() {
        String period = String.valueOf(config.health().interval().toMillis());

        routeTemplate(JDBC)
                .templateParameter("target").templateParameter("period")
                .from("timer:" + JDBC + "-{{target}}?period={{period}}")
                .doTry()
                    .setBody(constant("SELECT 1"))
                    .to("jdbc:" + PROBE_DS + "{{target}}")
                    .bean(Probes.NAME, "succeeded('{{target}}')")
                .doCatch(Exception.class)
                    .bean(Probes.NAME, "failed('{{target}}', ${exception})")
                .end();

        from("timer:" + KAFKA + "?period=" + period)
                .routeId(KAFKA)
                .doTry()
                    .bean(Probes.NAME, "kafka")
                .doCatch(Exception.class)
                    .bean(Probes.NAME, "failed('" + Pipeline.KAFKA + "', ${exception})")
                .end();

        Set<String> targets = new TreeSet<>();
        for (Pipeline p : pipelines.all()) {
            targets.add(p.primaryName());
            p.standbyName().ifPresent(targets::add);
        }
        for (String target : targets) {
            getContext().getRegistry().bind(PROBE_DS + target, datasources.probe(target));
            templatedRoute(JDBC).routeId(JDBC + "-" + target).parameter("target", target).parameter("period", period);
        }
    }
}
