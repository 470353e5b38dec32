package tributary.sink;

import java.util.List;

import tributary.testing.Db;
import tributary.testing.Servers;

/** The version guard and tombstone cases of {@link TombstoneTest} on a typed target without a payload column. */
class TypedTombstoneTest extends TombstoneTest {

    @Override
    String table() {
        return "tomb_typed_test";
    }

    @Override
    TargetWriter newWriter() {
        TargetShape shape = new TargetShape(List.of(TargetColumn.of("v", "bigint", "$.v")), false);
        return new TargetWriter(Db.of(Servers.get().primary), new TargetSql(table()), false,
                new TargetWriter.Settings("tributary.pipelines.t.target.table", shape, TargetWriter.Evolution.IGNORE));
    }

    @Override
    String data() {
        return "CASE WHEN v IS NULL THEN NULL ELSE jsonb_build_object('v', v)::text END";
    }

    @Override
    String dataIsThree() {
        return "v = 3";
    }
}
