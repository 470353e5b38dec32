package tributary.testing;

import javax.sql.DataSource;

import org.postgresql.ds.PGSimpleDataSource;

/** A plain, unpooled DataSource on a test server, for exercising stores without the application. */
public final class Db {

    private Db() {
    }

    public static DataSource of(Postgres pg) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(pg.jdbcUrl());
        ds.setUser(pg.user());
        return ds;
    }
}
