//! postgresql.conf settings checked against the PostgreSQL catalog (filled in by the reader work).
