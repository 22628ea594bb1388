//! pgbouncer.ini: a span-keeping reader (filled in by the reader work).
