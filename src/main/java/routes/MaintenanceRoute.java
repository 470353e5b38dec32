package routes;

import org.apache.camel.builder.RouteBuilder;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.pipeline.Exchanges;
import tributary.pipeline.Maintenance;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;

/** Scheduled upkeep per pipeline: retention of the outbox and tombstones, and the backlog reading. */
@ApplicationScoped
public class MaintenanceRoute extends RouteBuilder {

    static final String RETENTION = "retention-outbox";
    static final String BACKLOG = "backlog-outbox";

    private final Pipelines pipelines;

    public MaintenanceRoute(Pipelines pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    public void configure() {
        // A failed run is logged and simply repeated at the next tick: nothing is in flight here.
        template(RETENTION, "retain");
        template(BACKLOG, "observe");

        for (Pipeline p : pipelines.all()) {
            templatedRoute(RETENTION).routeId(RETENTION + "-" + p.name()).parameter("pipeline", p.name())
                    .parameter("period", String.valueOf(p.config().retention().interval().toMillis()));
        }
        for (Pipeline p : pipelines.outboxes()) {
            templatedRoute(BACKLOG).routeId(BACKLOG + "-" + p.name()).parameter("pipeline", p.name())
                    .parameter("period", String.valueOf(p.config().backlog().interval().toMillis()));
        }
    }

    private void template(String name, String method) {
        routeTemplate(name)
                .templateParameter("pipeline").templateParameter("period")
                .from("timer:" + name + "-{{pipeline}}?period={{period}}&delay=1000")
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .bean(Maintenance.NAME, method);
    }
}
