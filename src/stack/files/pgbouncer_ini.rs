//! pgbouncer.ini settings checked against the PgBouncer catalog (filled in by the reader work).
