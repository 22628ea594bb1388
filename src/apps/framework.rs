//! The kinds other than SQLAlchemy: their settings are their framework's keys ([`super::FwSettings`]),
//! where SQLAlchemy's are typed ([`crate::stack::SqlAlchemyApp`]).

use super::AppKind;

/// The kinds other than SQLAlchemy (every kind in [`super::KINDS`] after the first), as
/// [`Framework`]s: their settings are [`super::FwSettings`].
pub static FRAMEWORKS: &[&dyn Framework] = &[
    &super::asyncpg::Asyncpg,
    &super::psycopg_pool::PsycopgPool,
    &super::django::Django,
    &super::node_postgres::NodePostgres,
    &super::pgx::Pgx,
    &super::rails::Rails,
    &super::jdbc_hikari::JdbcHikari,
    &super::prisma::Prisma,
];

/// A kind whose settings are its framework's keys ([`super::FwSettings`]): every kind but SQLAlchemy,
/// whose settings are typed ([`crate::stack::SqlAlchemyApp`]). An app's
/// [`crate::stack::KindSettings`] holds one of these or SQLAlchemy's settings, never both.
pub trait Framework: AppKind {}

impl Framework for super::asyncpg::Asyncpg {}
impl Framework for super::psycopg_pool::PsycopgPool {}
impl Framework for super::django::Django {}
impl Framework for super::node_postgres::NodePostgres {}
impl Framework for super::pgx::Pgx {}
impl Framework for super::rails::Rails {}
impl Framework for super::jdbc_hikari::JdbcHikari {}
impl Framework for super::prisma::Prisma {}

/// The framework behind `kind`; `None` for SQLAlchemy.
pub fn framework(kind: &dyn AppKind) -> Option<&'static dyn Framework> {
    FRAMEWORKS.iter().copied().find(|f| f.name() == kind.name())
}

#[cfg(test)]
mod tests {
    use super::super::{KINDS, sqlalchemy::SqlAlchemy};
    use super::*;

    #[test]
    fn the_frameworks_are_every_kind_but_sqlalchemy_in_order() {
        let kinds: Vec<_> = KINDS.iter().map(|k| k.name()).collect();
        let frameworks: Vec<_> = FRAMEWORKS.iter().map(|k| k.name()).collect();
        assert_eq!(kinds[0], "sqlalchemy");
        assert_eq!(&kinds[1..], frameworks.as_slice());
        assert!(framework(&SqlAlchemy).is_none());
        for k in &KINDS[1..] {
            assert_eq!(framework(*k).map(|f| f.name()), Some(k.name()));
        }
    }
}
